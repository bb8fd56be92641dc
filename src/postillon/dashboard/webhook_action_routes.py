"""Webhook actions on one endpoint: rotate its signing secret (the new one shown once, the old
one signing beside it for the overlap), replay a logged event, send a test event now.

The test event's result (status, duration, error) is shown on the endpoint page that answers
the form; a replay is queued for the dispatcher, so its page says so and the log shows the
attempt once it is made. Must not send or sign anything itself: the webhook service does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from postillon.dashboard.context import Context, SignedIn, check_csrf, not_found
from postillon.dashboard.webhook_pages import back_to, endpoint_page, load_endpoint
from postillon.dashboard.webhook_views import EVENT_ID, Problem, send_outcome
from postillon.events import EventType
from postillon.webhooks.endpoint_errors import EndpointNotFoundError, EventNotFoundError

router = APIRouter()
Text = Annotated[str, Form()]
EVENT_TYPES = frozenset(kind.value for kind in EventType)


@router.post(
    "/webhooks/{endpoint_id}/rotate-secret", response_class=HTMLResponse, name="rotate_webhook"
)
async def rotate_secret(
    request: Request, context: Context, session: SignedIn, endpoint_id: str, csrf: Text = ""
) -> Response:
    """A new signing secret, shown on this answer only (not stored by the browser)."""
    check_csrf(context, session, csrf)
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
        rotated = await context.webhooks.rotate_secret(session.account.id, endpoint.id)
    except EndpointNotFoundError:
        return not_found(context, request, session)
    return await endpoint_page(
        context,
        request,
        session,
        rotated.endpoint,
        new_secret=rotated.secret,
        rotated=True,
    )


@router.post("/webhooks/{endpoint_id}/test", response_class=HTMLResponse, name="test_webhook")
async def send_test_event(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    endpoint_id: str,
    csrf: Text = "",
    event_type: Text = EventType.EMAIL_DELIVERED.value,
) -> Response:
    """Send a signed test event of the chosen type now, once; show how it went."""
    check_csrf(context, session, csrf)
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
        if event_type not in EVENT_TYPES:
            problem = Problem("event_type", f"{event_type[:60]!r} is not an event type.")
            return await endpoint_page(
                context, request, session, endpoint, status_code=422, problem=problem
            )
        kind = EventType(event_type)
        result = await context.webhooks.send_test(session.account.id, endpoint.id, kind)
    except EndpointNotFoundError:
        return not_found(context, request, session)
    return await endpoint_page(
        context, request, session, endpoint, outcome=send_outcome(result), tested=kind.value
    )


@router.post("/webhooks/{endpoint_id}/replay", name="replay_webhook")
async def replay_event(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    endpoint_id: str,
    csrf: Text = "",
    event_id: Text = "",
) -> Response:
    """Queue the event for the endpoint again (same webhook-id and body, retried as usual)."""
    check_csrf(context, session, csrf)
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
        if EVENT_ID.fullmatch(event_id) is None:
            raise EventNotFoundError(f"no event {event_id[:60]!r}")
        await context.webhooks.replay(session.account.id, endpoint.id, event_id)
    except EndpointNotFoundError:
        return not_found(context, request, session)
    except EventNotFoundError:
        text = f"There is no event {event_id[:60]!r} to replay (test events are not kept)."
        return await endpoint_page(
            context, request, session, endpoint, status_code=404, problem=Problem("", text)
        )
    return back_to(request, endpoint.id, done="replayed", event=event_id)
