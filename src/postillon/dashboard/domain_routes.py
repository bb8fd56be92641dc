"""Domains: the account's sender domains, adding and deleting one, one domain's records table
(expected value beside what DNS holds) and "Verify now".

A name that is not a domain at all is answered like an unknown one (404): the account has no
such domain. A name the add form cannot use is shown as an error on the list page, never a
500. Must not touch DNS itself: verification is the domain service's.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import (
    Context,
    DashboardContext,
    SignedIn,
    check_csrf,
    not_found,
    render,
)
from postillon.dashboard.record_rows import record_rows
from postillon.domains.errors import InvalidDomainError, NoSourceAddressesError
from postillon.errors import PostillonError
from postillon.services.errors import DomainExistsError, NotFoundError
from postillon.services.key_generation import KeyGenerationLimitError

router = APIRouter()
# Why "Verify now" could not finish, by error class; anything else is a transient failure.
VERIFY_ERRORS = {
    "NoSourceAddressesError": "this node has no sending addresses configured (ask the operator)",
}
# What the domain service raises for a name the account has no domain by (or no domain at all).
NO_SUCH_DOMAIN = (NotFoundError, InvalidDomainError)


async def _list_page(
    context: DashboardContext,
    request: Request,
    session: SignedIn,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    domains = await context.services.domains.list(session.account)
    return render(
        context,
        request,
        "domains.html",
        session,
        status_code=status_code,
        domains=domains,
        **values,
    )


@router.get("/domains", response_class=HTMLResponse, name="domains")
async def list_domains(
    request: Request, context: Context, session: SignedIn, deleted: str = ""
) -> HTMLResponse:
    """The account's sender domains with their status, and the form to add one."""
    return await _list_page(context, request, session, deleted=deleted)


@router.post("/domains", name="create_domain")
async def add_domain(
    request: Request,
    context: Context,
    session: SignedIn,
    csrf: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    """Add a sender domain and show the records to publish; a bad name is shown as an error."""
    check_csrf(context, session, csrf)
    try:
        domain = await context.services.domains.add(session.account, name)
    except InvalidDomainError as error:
        problem = f"That domain cannot be added: {error}."
        return await _list_page(context, request, session, 422, error=problem, typed=name)
    except DomainExistsError:
        problem = f"{name.strip()} is already one of your domains."
        return await _list_page(context, request, session, 409, error=problem, typed=name)
    except NoSourceAddressesError:
        problem = "This node has no sending addresses configured; ask the operator."
        return await _list_page(context, request, session, 503, error=problem, typed=name)
    except KeyGenerationLimitError as error:
        problem = f"Not now: {error}."
        return await _list_page(context, request, session, 429, error=problem, typed=name)
    target = request.url_for("domain", name=domain.name)
    return RedirectResponse(f"{target}?added=1", status_code=303)


@router.get("/domains/{name}", response_class=HTMLResponse, name="domain")
async def show_domain(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    name: str,
    error: str = "",
    added: str = "",
) -> HTMLResponse:
    """One domain: the records to publish, what DNS holds, their status."""
    try:
        domain = await context.services.domains.get(session.account, name)
    except NO_SUCH_DOMAIN:
        return not_found(context, request, session)
    problem = VERIFY_ERRORS.get(error, "the DNS lookups failed; try again shortly") if error else ""
    return render(
        context,
        request,
        "domain.html",
        session,
        domain=domain,
        rows=record_rows(domain.records),
        error=problem,
        added=bool(added),
    )


@router.post("/domains/{name}/verify", name="verify")
async def verify(
    request: Request,
    context: Context,
    session: SignedIn,
    name: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Check the domain's records in DNS now."""
    check_csrf(context, session, csrf)
    target = str(request.url_for("domain", name=name))
    try:
        await context.services.domains.verify(session.account, name)
    except NO_SUCH_DOMAIN:
        return not_found(context, request, session)
    except PostillonError as exc:
        return RedirectResponse(f"{target}?error={type(exc).__name__}", status_code=303)
    return RedirectResponse(target, status_code=303)


@router.post("/domains/{name}/delete", name="remove_domain")
async def delete_domain(
    request: Request,
    context: Context,
    session: SignedIn,
    name: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Delete the domain and its keys: mail from it is refused from then on."""
    check_csrf(context, session, csrf)
    try:
        await context.services.domains.delete(session.account, name)
    except NO_SUCH_DOMAIN:
        return not_found(context, request, session)
    target = request.url_for("domains")
    return RedirectResponse(f"{target}?{urlencode({'deleted': name})}", status_code=303)
