"""Messages: the list (newest first, filters, cursor paging) and one message's detail with
its per-recipient attempt timeline, and the actions retry now and cancel.

Filters come from the query string, so every list view is a link that works without
JavaScript. Must not deliver or change a message beyond the store's retry and delete.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import Context, SignedIn, check_csrf, render
from postillon.message.errors import InvalidMessageError
from postillon.queue.status import RecipientStatus
from postillon.services.errors import NotFoundError
from postillon.storage.records import MessageFilter, Page

router = APIRouter()
# Rows per page: one screen on a laptop, a short scroll on a phone.
PAGE_SIZE = 25
STATUSES = [status.value for status in RecipientStatus]


def _moment(text: str) -> datetime | None:
    """A ``datetime-local`` input (taken as UTC), or None when empty or malformed."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None
    except ValueError:
        return None


@router.get("/messages", response_class=HTMLResponse, name="messages")
async def list_messages(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    recipient: Annotated[str, Query()] = "",
    status: Annotated[str, Query()] = "",
    tag: Annotated[str, Query()] = "",
    after: Annotated[str, Query()] = "",
    before: Annotated[str, Query()] = "",
    cursor: Annotated[str, Query()] = "",
) -> HTMLResponse:
    """The account's messages matching the filters, newest first, one page."""
    filters = MessageFilter(
        status=RecipientStatus(status) if status in STATUSES else None,
        recipient=recipient.strip() or None,
        tag=tag.strip() or None,
        created_after=_moment(after),
        created_before=_moment(before),
    )
    error = None
    try:
        page = await context.services.sending.list(
            session.account, filters, PAGE_SIZE, cursor or None
        )
    except InvalidMessageError:
        page, error = Page(items=(), next_cursor=None), "That page link has expired."
    query = {"recipient": recipient, "status": status, "tag": tag, "after": after}
    query["before"] = before
    next_link = None
    if page.next_cursor:
        kept = {k: v for k, v in query.items() if v}
        next_link = "?" + urlencode({**kept, "cursor": page.next_cursor})
    return render(
        context,
        request,
        "messages.html",
        session,
        page=page,
        query=query,
        statuses=STATUSES,
        next_link=next_link,
        paged=bool(cursor),
        error=error,
    )


@router.get("/messages/{message_id}", response_class=HTMLResponse, name="message")
async def show_message(
    request: Request, context: Context, session: SignedIn, message_id: str, done: str = ""
) -> HTMLResponse:
    """One message: envelope, headers, recipients with their attempts, actions."""
    try:
        message = await context.services.sending.get(session.account, message_id)
    except NotFoundError:
        return render(context, request, "not_found.html", session, status_code=404)
    waiting = any(r.status.is_active for r in message.recipients)
    return render(
        context, request, "message.html", session, message=message, waiting=waiting, done=done
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
        await context.services.sending.get(session.account, message_id)
    except NotFoundError:
        return render(context, request, "not_found.html", session, status_code=404)
    count = await context.store.retry_now(message_id)
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
    """Cancel the message: it is deleted with its recipients, so nothing more is sent."""
    check_csrf(context, session, csrf)
    try:
        await context.services.sending.get(session.account, message_id)
    except NotFoundError:
        return render(context, request, "not_found.html", session, status_code=404)
    await context.store.delete_message(message_id)
    return RedirectResponse(f"{request.url_for('messages')}?cancelled=1", status_code=303)
