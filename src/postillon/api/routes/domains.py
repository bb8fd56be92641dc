"""``/v1/domains``: add a sender domain, read it, verify its records through DNS, delete it,
rotate its DKIM key.

A name in the path that is not a domain at all is answered like an unknown one (404): the
account has no such domain. Must not query DNS or the store directly (the service does).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from postillon.api.context import Context, CurrentAccount
from postillon.api.domain_views import (
    AddDomainBody,
    DomainList,
    DomainOut,
    DomainSettingsBody,
    domain_out,
)
from postillon.api.openapi_errors import error_responses
from postillon.api.problems import ApiError, ErrorType
from postillon.domains.errors import InvalidDomainError

router = APIRouter(prefix="/v1/domains", tags=["domains"])


def _no_such_domain(name: str) -> ApiError:
    return ApiError(404, ErrorType.NOT_FOUND, f"no domain {name}")


@router.post(
    "",
    status_code=201,
    summary="Add a sender domain; the answer lists the records to publish",
    responses=error_responses(401, 409, 422, 429, 503),
)
async def add_domain(body: AddDomainBody, account: CurrentAccount, context: Context) -> DomainOut:
    """A new 2048-bit RSA DKIM key with a dated selector, and the DKIM, SPF, return-path and
    DMARC records to publish (all pending until verified)."""
    return domain_out(await context.services.domains.add(account, body.name))


@router.get("", summary="The account's domains", responses=error_responses(401, 429, 503))
async def list_domains(account: CurrentAccount, context: Context) -> DomainList:
    """Every domain of the account, by name."""
    return DomainList(data=[domain_out(v) for v in await context.services.domains.list(account)])


@router.get(
    "/{name}",
    summary="One domain and its records",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def get_domain(name: str, account: CurrentAccount, context: Context) -> DomainOut:
    """404 for an unknown name, and for another account's domain."""
    try:
        return domain_out(await context.services.domains.get(account, name))
    except InvalidDomainError as error:
        raise _no_such_domain(name) from error


@router.post(
    "/{name}/verify",
    summary="Check every record through DNS, record by record",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def verify_domain(name: str, account: CurrentAccount, context: Context) -> DomainOut:
    """Each record says verified, missing, mismatch or dns_error, what DNS held, and what to
    fix; the domain is verified (and signs) once every required record is."""
    try:
        return domain_out(await context.services.domains.verify(account, name))
    except InvalidDomainError as error:
        raise _no_such_domain(name) from error


@router.patch(
    "/{name}",
    summary="Change a domain's settings (one-click unsubscribe by default)",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def update_domain(
    name: str, body: DomainSettingsBody, account: CurrentAccount, context: Context
) -> DomainOut:
    """``unsubscribe_default``: single-recipient mail from the domain gets List-Unsubscribe and
    List-Unsubscribe-Post (RFC 8058) unless a request sends ``"unsubscribe": false``."""
    domains = context.services.domains
    try:
        return domain_out(
            await domains.set_unsubscribe_default(account, name, body.unsubscribe_default)
        )
    except InvalidDomainError as error:
        raise _no_such_domain(name) from error


@router.post(
    "/{name}/rotate-key",
    summary="Start a DKIM key rotation",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def rotate_key(name: str, account: CurrentAccount, context: Context) -> DomainOut:
    """A new key with a new selector to publish; the current key signs until the new record
    verifies (``POST /verify``), then retires."""
    try:
        return domain_out(await context.services.domains.rotate_key(account, name))
    except InvalidDomainError as error:
        raise _no_such_domain(name) from error


@router.delete(
    "/{name}",
    status_code=204,
    summary="Delete a domain and its keys",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def delete_domain(name: str, account: CurrentAccount, context: Context) -> Response:
    """Mail from the domain is refused from then on."""
    try:
        await context.services.domains.delete(account, name)
    except InvalidDomainError as error:
        raise _no_such_domain(name) from error
    return Response(status_code=204)
