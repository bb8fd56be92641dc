"""Messages: the list (newest first, search and filters, cursor paging) and one message's detail
with its content, its per-recipient attempt timeline, the reports received about it by mail
(late bounces, delays, complaints, auto-replies), and the actions retry now and cancel.

Filters come from the query string, so every list view is a link that works without
JavaScript. Cancel keeps the message and its history (waiting recipients become cancelled).
The message's content and session transcripts are served by :mod:`.message_content_routes`.
Must not deliver or change a message beyond the sending service's cancel and the store's retry.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard import message_content_routes
from postillon.dashboard.context import Context, SignedIn, check_csrf, not_found, render
from postillon.dashboard.message_views import (
    STATUSES,
    STREAMS,
    cancelled_done,
    notice_for,
    search_from,
)
from postillon.message.errors import InvalidMessageError
from postillon.message.parts import read_parts
from postillon.services.errors import NotFoundError
from postillon.storage.records import Page

router = APIRouter()
router.include_router(message_content_routes.router)
# Rows per page: one screen on a laptop, a short scroll on a phone.
PAGE_SIZE = 25
# Reports received by mail shown on a message: a message gets a handful (a bounce, a delay
# or two, a complaint); a flood of copies is cut here.
MAX_REPORTS_SHOWN = 20


@router.get("/messages", response_class=HTMLResponse, name="messages")
async def list_messages(
    *, request: Request, context: Context, session: SignedIn, cursor: str = ""
) -> HTMLResponse:
    """The account's messages matching the search, newest first, one page. The search fields
    are read from the query string (see :data:`.message_views.SEARCH_FIELDS`)."""
    search = search_from(request.query_params)
    error = None
    try:
        page = await context.services.sending.list(
            session.account, search.filters, PAGE_SIZE, cursor or None
        )
    except InvalidMessageError:
        page, error = Page(items=(), next_cursor=None), "That page link has expired."
    next_link = None
    if page.next_cursor:
        next_link = "?" + urlencode({**search.link_params(), "cursor": page.next_cursor})
    return render(
        context,
        request,
        "messages.html",
        session,
        page=page,
        query=search.query,
        searching=bool(search.link_params()),
        statuses=STATUSES,
        streams=STREAMS,
        next_link=next_link,
        first_link=f"{request.url_for('messages')}?{urlencode(search.link_params())}",
        paged=bool(cursor),
        error=error,
    )


@router.get("/messages/{message_id}", response_class=HTMLResponse, name="message")
async def show_message(
    request: Request, context: Context, session: SignedIn, message_id: str, done: str = ""
) -> HTMLResponse:
    """One message: envelope, content, header fields, recipients with their attempts, actions."""
    try:
        message = await context.services.sending.get(session.account, message_id, with_body=True)
    except NotFoundError:
        return not_found(context, request, session)
    waiting = any(r.status.is_active for r in message.recipients)
    return render(
        context,
        request,
        "message.html",
        session,
        message=message,
        parts=read_parts(message.body or b""),
        waiting=waiting,
        now=context.clock.now(),
        notice=notice_for(done),
        reports=await context.services.return_path.reports(
            session.account.id, message_id=message.id, limit=MAX_REPORTS_SHOWN
        ),
    )


@router.post("/messages/{message_id}/retry", name="retry")
async def retry(
    request: Request,
    context: Context,
    session: SignedIn,
    message_id: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Make the message's waiting recipients due now."""
    check_csrf(context, session, csrf)
    try:
        count = await context.services.sending.retry_now(session.account, message_id)
    except NotFoundError:
        return not_found(context, request, session)
    target = request.url_for("message", message_id=message_id)
    return RedirectResponse(f"{target}?done=retried-{count}", status_code=303)


@router.post("/messages/{message_id}/cancel", name="cancel")
async def cancel(
    request: Request,
    context: Context,
    session: SignedIn,
    message_id: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Cancel the message's waiting recipients; the message and its history stay, and the
    page says how many were cancelled and how many were in flight."""
    check_csrf(context, session, csrf)
    try:
        result = await context.services.sending.cancel(session.account, message_id)
    except NotFoundError:
        return not_found(context, request, session)
    target = request.url_for("message", message_id=message_id)
    return RedirectResponse(f"{target}?done={cancelled_done(result)}", status_code=303)
