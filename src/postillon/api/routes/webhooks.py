"""``/v1/webhooks``: register, read, change and delete webhook endpoints; rotate an endpoint's
secret; read its delivery log; replay an event to it; send it a test event.

The endpoint service (webhooks/service.py) decides everything: the SSRF guard at registration
and at every change, secrets, rotation overlap, replay, the test delivery. This module turns its
errors into the API's: an unknown id, and another account's, is a 404 (never 403); a refused URL
is a 422 naming ``url`` with the reason. Must not touch the store or send anything itself.

SECURITY: the ``whsec_`` secret is in the answers to creation and rotation only; reads never
carry it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from postillon.api.context import Context, CurrentAccount
from postillon.api.openapi_errors import error_responses
from postillon.api.problems import ApiError, ErrorType, FieldProblem, invalid
from postillon.api.webhook_views import (
    CreateWebhookBody,
    DeliveryPage,
    DeliveryTestOut,
    EventTestBody,
    ReplayAccepted,
    ReplayBody,
    UpdateWebhookBody,
    WebhookList,
    WebhookOut,
    WebhookWithSecret,
    delivery_page,
    delivery_test_out,
    events_json,
    webhook_out,
    webhook_with_secret,
)
from postillon.webhooks.endpoint_errors import (
    EndpointNotFoundError,
    EventNotFoundError,
    TooManyEndpointsError,
    UnresolvableHostError,
)
from postillon.webhooks.errors import InvalidFilterError, UnsafeTargetError
from postillon.webhooks.service import WebhookService

# A delivery log page: a screenful by default, never more than a few hundred rows per request.
DEFAULT_LOG_PAGE = 50
MAX_LOG_PAGE = 200
# Log ids are 64-bit integers in both databases; a larger cursor would overflow the driver.
MAX_LOG_ID = 2**63 - 1
# Endpoint ids we make are "ep_" + 26 base32 characters; anything outside this alphabet or
# length cannot be one, and is answered 404 without a query.
_ENDPOINT_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _webhook_service(context: Context) -> WebhookService:
    if context.webhooks is None:  # the router is only mounted with the service
        raise ApiError(404, ErrorType.NOT_FOUND, "webhooks are not served here")
    return context.webhooks


Webhooks = Annotated[WebhookService, Depends(_webhook_service)]


def _no_such_endpoint(webhook_id: str) -> ApiError:
    return ApiError(404, ErrorType.NOT_FOUND, f"no webhook endpoint {webhook_id[:100]}")


def _checked(webhook_id: str) -> str:
    if _ENDPOINT_ID.fullmatch(webhook_id) is None:
        raise _no_such_endpoint(webhook_id)
    return webhook_id


@contextmanager
def _answered(webhook_id: str = "") -> Iterator[None]:
    """The service's errors as API errors."""
    try:
        yield
    except EndpointNotFoundError as error:
        raise _no_such_endpoint(webhook_id) from error
    except UnsafeTargetError as error:
        raise invalid([FieldProblem("url", str(error))]) from error
    except UnresolvableHostError as error:
        # Registration vets the addresses the host resolves to; without any there is nothing to
        # vet. Usually a typo, so the caller is told which field to look at.
        message = f"{error}; check the host name, or retry if its DNS is failing"
        raise invalid([FieldProblem("url", message)]) from error
    except InvalidFilterError as error:
        raise invalid([FieldProblem("events", str(error))]) from error
    except TooManyEndpointsError as error:
        raise ApiError(409, ErrorType.CONFLICT, str(error)) from error
    except EventNotFoundError as error:
        raise ApiError(
            404, ErrorType.NOT_FOUND, str(error), fields=[FieldProblem("event_id", str(error))]
        ) from error


@router.post(
    "",
    status_code=201,
    summary="Register a webhook endpoint; the answer holds its secret (shown only now)",
    responses=error_responses(401, 409, 422, 429, 503),
)
async def create_webhook(
    body: CreateWebhookBody, account: CurrentAccount, webhooks: Webhooks
) -> WebhookWithSecret:
    """The URL is refused (422 on ``url``, saying why) if it, or any address its host resolves
    to, is loopback, private, link-local or otherwise special. Deliveries follow Standard
    Webhooks: verify ``webhook-signature`` with the ``whsec_`` secret."""
    with _answered():
        created = await webhooks.create(
            account.id, body.url, events_json(body.events), enabled=body.enabled
        )
    return webhook_with_secret(created)


@router.get("", summary="The account's webhook endpoints", responses=error_responses(401, 429, 503))
async def list_webhooks(account: CurrentAccount, webhooks: Webhooks) -> WebhookList:
    """Every endpoint of the account, oldest first, without secrets."""
    return WebhookList(data=[webhook_out(v) for v in await webhooks.list(account.id)])


@router.get(
    "/{webhook_id}",
    summary="One webhook endpoint",
    responses=error_responses(401, 404, 429, 503),
)
async def get_webhook(webhook_id: str, account: CurrentAccount, webhooks: Webhooks) -> WebhookOut:
    """404 for an unknown id, and for another account's endpoint."""
    with _answered(webhook_id):
        return webhook_out(await webhooks.get(account.id, _checked(webhook_id)))


@router.patch(
    "/{webhook_id}",
    summary="Change an endpoint's URL, event filter, or enable or disable it",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def update_webhook(
    webhook_id: str, body: UpdateWebhookBody, account: CurrentAccount, webhooks: Webhooks
) -> WebhookOut:
    """A new URL is vetted like a new endpoint's. Enabling clears the failure record."""
    with _answered(webhook_id):
        view = await webhooks.update(
            account.id,
            _checked(webhook_id),
            url=body.url,
            event_filter=None if body.events is None else events_json(body.events),
            enabled=body.enabled,
        )
    return webhook_out(view)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete an endpoint with its pending deliveries and its log",
    responses=error_responses(401, 404, 429, 503),
)
async def delete_webhook(webhook_id: str, account: CurrentAccount, webhooks: Webhooks) -> Response:
    """Nothing more is sent to it."""
    with _answered(webhook_id):
        await webhooks.delete(account.id, _checked(webhook_id))
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    summary="A new signing secret; the old one keeps signing until previous_secret_until",
    responses=error_responses(401, 404, 429, 503),
)
async def rotate_secret(
    webhook_id: str, account: CurrentAccount, webhooks: Webhooks
) -> WebhookWithSecret:
    """Every delivery is signed with both secrets until ``previous_secret_until`` (24 hours),
    so receivers can switch without rejecting one; then with the new one only. Rotating again
    inside the overlap drops the oldest secret."""
    with _answered(webhook_id):
        rotated = await webhooks.rotate_secret(account.id, _checked(webhook_id))
    return webhook_with_secret(rotated)


@router.get(
    "/{webhook_id}/deliveries",
    summary="The endpoint's delivery log, newest first",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def list_deliveries(
    webhook_id: str,
    account: CurrentAccount,
    webhooks: Webhooks,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_PAGE)] = DEFAULT_LOG_PAGE,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_LOG_ID, description="Only attempts older than this id (next_before)."),
    ] = None,
) -> DeliveryPage:
    """Each attempt: the event, the attempt number, when, the HTTP status, latency, the start
    of the answer, the error, and what followed (retry, failed, ...)."""
    with _answered(webhook_id):
        entries = await webhooks.delivery_log(
            account.id, _checked(webhook_id), limit=limit, before_id=before
        )
    return delivery_page(entries, limit)


@router.post(
    "/{webhook_id}/replay",
    status_code=202,
    summary="Send an event to the endpoint again",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def replay_event(
    webhook_id: str, body: ReplayBody, account: CurrentAccount, webhooks: Webhooks
) -> ReplayAccepted:
    """The event goes out again with the same webhook-id and body, whatever the endpoint's
    filter, retried as usual; 404 (on ``event_id``) if the account has no such event."""
    with _answered(webhook_id):
        await webhooks.replay(account.id, _checked(webhook_id), body.event_id)
    return ReplayAccepted(webhook_id=webhook_id, event_id=body.event_id)


@router.post(
    "/{webhook_id}/test",
    summary="Send a signed test event now and answer how it went",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def send_test_event(
    webhook_id: str,
    account: CurrentAccount,
    webhooks: Webhooks,
    body: EventTestBody | None = None,
) -> DeliveryTestOut:
    """One delivery (``data.test`` is true), without retries, also to a disabled endpoint; it
    is logged and does not count against the endpoint's health. A failed delivery is still a
    200: ``success`` and ``error`` say what happened."""
    event_type = (body or EventTestBody()).type
    with _answered(webhook_id):
        result = await webhooks.send_test(account.id, _checked(webhook_id), event_type)
    return delivery_test_out(result)
