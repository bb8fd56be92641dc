"""Webhooks: the account's endpoints, adding one (its signing secret shown once), one
endpoint's page with its settings and delivery log, enabling or disabling it, and deleting it
after a confirmation page (no JavaScript needed).

Rotating the secret, replaying an event and sending a test event are in
:mod:`.webhook_action_routes`. Every error the webhook service raises on a form's input (a
refused or malformed URL, an unresolvable host, an empty event choice) is shown on the page,
never a 500; an unknown endpoint id and another account's get the not-found page. Must not
send, sign or vet anything itself: the webhook service does.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard import webhook_action_routes
from postillon.dashboard.context import Context, SignedIn, check_csrf, not_found, render
from postillon.dashboard.webhook_pages import (
    back_to,
    endpoint_page,
    list_page,
    load_endpoint,
)
from postillon.dashboard.webhook_views import (
    SCOPE_ALL,
    Problem,
    deleted_notice,
    filter_from_form,
    log_cursor,
    notice_for,
    problem_of,
)
from postillon.webhooks.endpoint_errors import (
    EndpointNotFoundError,
    TooManyEndpointsError,
    UnresolvableHostError,
)
from postillon.webhooks.errors import InvalidFilterError, UnsafeTargetError

router = APIRouter()
router.include_router(webhook_action_routes.router)
# The service's errors about a form's input: shown on the page (422), never raised.
FORM_ERRORS = (UnsafeTargetError, UnresolvableHostError, InvalidFilterError, TooManyEndpointsError)
Text = Annotated[str, Form()]
Texts = Annotated[list[str], Form()]


@router.get("/webhooks", response_class=HTMLResponse, name="webhooks")
async def list_webhooks(
    request: Request, context: Context, session: SignedIn, deleted: str = ""
) -> HTMLResponse:
    """The account's endpoints (oldest first) and the form to add one."""
    return await list_page(context, request, session, notice=deleted_notice(deleted))


@router.post("/webhooks", response_class=HTMLResponse, name="add_webhook")
async def add_webhook(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    csrf: Text = "",
    url: Text = "",
    scope: Text = SCOPE_ALL,
    events: Texts | None = None,
) -> HTMLResponse:
    """Register an endpoint and show it with its signing secret, this once (not stored by the
    browser); a refused URL or event choice is shown on the list page."""
    check_csrf(context, session, csrf)
    types = events or []
    try:
        created = await context.webhooks.create(
            session.account.id, url.strip(), filter_from_form(scope, types)
        )
    except FORM_ERRORS as error:
        return await list_page(
            context,
            request,
            session,
            status_code=422,
            problem=problem_of(error),
            typed_url=url,
            scope=scope,
            typed_types=types,
        )
    return await endpoint_page(
        context,
        request,
        session,
        created.endpoint,
        new_secret=created.secret,
    )


@router.get("/webhooks/{endpoint_id}", response_class=HTMLResponse, name="webhook")
async def show_webhook(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    endpoint_id: str,
    before: str = "",
    done: str = "",
    event: str = "",
) -> HTMLResponse:
    """One endpoint: settings, actions, and its delivery log newest first (``before`` pages
    back)."""
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
    except EndpointNotFoundError:
        return not_found(context, request, session)
    try:
        cursor = log_cursor(before)
    except ValueError:
        return await endpoint_page(
            context,
            request,
            session,
            endpoint,
            problem=Problem("", "That page link is not valid; here are the newest attempts."),
        )
    return await endpoint_page(
        context, request, session, endpoint, before=cursor, notice=notice_for(done, event)
    )


@router.post(
    "/webhooks/{endpoint_id}/settings", response_class=HTMLResponse, name="webhook_settings"
)
async def change_settings(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    endpoint_id: str,
    csrf: Text = "",
    url: Text = "",
    scope: Text = SCOPE_ALL,
    events: Texts | None = None,
) -> Response:
    """Change the URL (vetted again, like a new one) and the events it receives."""
    check_csrf(context, session, csrf)
    types = events or []
    new_url = url.strip()
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
        await context.webhooks.update(
            session.account.id,
            endpoint.id,
            url=new_url if new_url != endpoint.url else None,
            event_filter=filter_from_form(scope, types),
        )
    except EndpointNotFoundError:
        return not_found(context, request, session)
    except FORM_ERRORS as error:
        return await endpoint_page(
            context,
            request,
            session,
            endpoint,
            status_code=422,
            problem=problem_of(error),
            typed_url=url,
            scope=scope,
            typed_types=types,
        )
    return back_to(request, endpoint.id, done="updated")


@router.post("/webhooks/{endpoint_id}/enabled", name="webhook_enabled")
async def set_enabled(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    endpoint_id: str,
    csrf: Text = "",
    enabled: Text = "",
) -> Response:
    """Enable the endpoint (clearing its failure record) or disable it (its pending
    deliveries are given up)."""
    check_csrf(context, session, csrf)
    if enabled not in ("true", "false"):
        return not_found(context, request, session)
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
        await context.webhooks.update(session.account.id, endpoint.id, enabled=enabled == "true")
    except EndpointNotFoundError:
        return not_found(context, request, session)
    return back_to(request, endpoint.id, done="enabled" if enabled == "true" else "disabled")


@router.get(
    "/webhooks/{endpoint_id}/delete", response_class=HTMLResponse, name="confirm_delete_webhook"
)
async def confirm_delete(
    request: Request, context: Context, session: SignedIn, endpoint_id: str
) -> HTMLResponse:
    """Are you sure? The confirmation page, with the button that deletes."""
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
    except EndpointNotFoundError:
        return not_found(context, request, session)
    return render(context, request, "webhook_delete.html", session, endpoint=endpoint)


@router.post("/webhooks/{endpoint_id}/delete", name="delete_webhook")
async def delete_webhook(
    request: Request,
    context: Context,
    session: SignedIn,
    endpoint_id: str,
    csrf: Text = "",
) -> Response:
    """Delete the endpoint with its pending deliveries and its log."""
    check_csrf(context, session, csrf)
    try:
        endpoint = await load_endpoint(context, session, endpoint_id)
        await context.webhooks.delete(session.account.id, endpoint.id)
    except EndpointNotFoundError:
        return not_found(context, request, session)
    target = request.url_for("webhooks")
    return RedirectResponse(f"{target}?{urlencode({'deleted': endpoint.url})}", status_code=303)
