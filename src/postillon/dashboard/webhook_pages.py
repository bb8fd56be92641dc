"""The two webhook pages as the routes render them: the account's endpoint list (with the add
form) and one endpoint (settings, actions, a page of its delivery log).

Every page with a secret on it is answered ``Cache-Control: no-store``: the secret is shown
once and must not stay in a cache. Must not change anything (the routes call the service).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from postillon.dashboard.context import DashboardContext, Session, not_found, render
from postillon.dashboard.webhook_views import (
    ENDPOINT_ID,
    SCOPE_ALL,
    SCOPE_SOME,
    endpoint_row,
    endpoint_state,
    event_choices,
    event_types,
    events_text,
    failure_text,
    log_page,
)
from postillon.webhooks.endpoint_errors import EndpointNotFoundError
from postillon.webhooks.endpoints import EndpointView

# Attempts per log page: a screenful on a laptop.
LOG_PAGE_SIZE = 25


def _no_store(response: HTMLResponse, secret: str | None) -> HTMLResponse:
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


async def load_endpoint(
    context: DashboardContext, session: Session, endpoint_id: str
) -> EndpointView:
    """The account's endpoint ``endpoint_id``; EndpointNotFoundError for an unknown or
    malformed id and for another account's (the routes answer :func:`not_found`)."""
    if ENDPOINT_ID.fullmatch(endpoint_id) is None:
        raise EndpointNotFoundError(f"no endpoint {endpoint_id[:60]!r}")
    return await context.webhooks.get(session.account.id, endpoint_id)


def back_to(request: Request, endpoint_id: str, **params: str) -> RedirectResponse:
    """A redirect (303) to the endpoint's page, with ``params`` (the notice to show)."""
    target = request.url_for("webhook", endpoint_id=endpoint_id)
    return RedirectResponse(f"{target}?{urlencode(params)}", status_code=303)


async def list_page(
    context: DashboardContext,
    request: Request,
    session: Session,
    *,
    status_code: int = 200,
    scope: str = SCOPE_ALL,
    typed_types: Sequence[str] = (),
    **values: Any,
) -> HTMLResponse:
    """The endpoint list and the add form; ``values`` may carry a ``notice``, or a
    ``problem`` with the ``typed_url`` to show a refused form back."""
    endpoints = await context.webhooks.list(session.account.id)
    return render(
        context,
        request,
        "webhooks.html",
        session,
        status_code=status_code,
        rows=[endpoint_row(view) for view in endpoints],
        choices=event_choices(None, typed_types),
        scope=scope,
        scope_all=SCOPE_ALL,
        scope_some=SCOPE_SOME,
        **values,
    )


async def endpoint_page(
    context: DashboardContext,
    request: Request,
    session: Session,
    endpoint: EndpointView,
    *,
    status_code: int = 200,
    before: int | None = None,
    scope: str | None = None,
    typed_types: Sequence[str] = (),
    **values: Any,
) -> HTMLResponse:
    """One endpoint with a page of its log (older than ``before``). ``values`` may carry
    ``new_secret`` (then the answer is not stored), ``notice``, ``problem``, ``outcome`` (a
    test delivery's) and the ``typed_url`` of a refused settings form."""
    try:
        entries = await context.webhooks.delivery_log(
            session.account.id, endpoint.id, limit=LOG_PAGE_SIZE + 1, before_id=before
        )
    except EndpointNotFoundError:  # deleted since it was read
        return not_found(context, request, session)
    if scope is None:
        scope = SCOPE_ALL if endpoint.event_filter.types is None else SCOPE_SOME
    response = render(
        context,
        request,
        "webhook.html",
        session,
        status_code=status_code,
        endpoint=endpoint,
        state=endpoint_state(endpoint),
        events=events_text(endpoint.event_filter),
        failures=failure_text(endpoint),
        choices=event_choices(endpoint.event_filter, typed_types),
        scope=scope,
        scope_all=SCOPE_ALL,
        scope_some=SCOPE_SOME,
        event_types=event_types(),
        log=log_page(entries, LOG_PAGE_SIZE),
        paged=before is not None,
        **values,
    )
    return _no_store(response, values.get("new_secret"))
