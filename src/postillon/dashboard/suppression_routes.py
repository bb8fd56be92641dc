"""Suppressions: the account's suppressed addresses (newest first, searched by address, cursor
pages) with reason, time and source message; add an address by hand; remove one.

The search and the page are in the query string, so every view is a link that works without
JavaScript; adding and removing are POST forms with the session's CSRF token, answered with a
redirect that names what was done. Must not change another account's list (the service is
always given the session's account).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import Context, DashboardContext, SignedIn, check_csrf, render
from postillon.message.errors import AddressError
from postillon.storage.errors import StorageError
from postillon.storage.suppressions_sql import SuppressionPage

router = APIRouter()
# Rows per page: one screen on a laptop, a short scroll on a phone.
PAGE_SIZE = 50
# What each redirect's ``done`` says, with the address it names.
DONE_TEXT = {
    "added": "{address} was added: nothing will be sent to it.",
    "listed": "{address} was already on the list.",
    "removed": "{address} was removed: mail to it will be sent again.",
    "absent": "{address} is not on your list.",
}


def _done(request: Request, done: str, address: str) -> RedirectResponse:
    """Back to the list (303), saying what was done to ``address``."""
    query = urlencode({"done": done, "address": address})
    return RedirectResponse(f"{request.url_for('suppressions')}?{query}", status_code=303)


async def _page(
    context: DashboardContext,
    request: Request,
    session: SignedIn,
    *,
    q: str = "",
    cursor: str = "",
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    error = values.pop("error", None)
    try:
        page = await context.services.suppressions.page(
            session.account, search=q, limit=PAGE_SIZE, cursor=cursor or None
        )
    except StorageError:
        page, error = SuppressionPage(items=(), next_cursor=None), "That page link has expired."
    next_link = None
    if page.next_cursor:
        kept = {"q": q} if q.strip() else {}
        next_link = "?" + urlencode({**kept, "cursor": page.next_cursor})
    return render(
        context,
        request,
        "suppressions.html",
        session,
        status_code=status_code,
        page=page,
        q=q,
        paged=bool(cursor),
        next_link=next_link,
        error=error,
        **values,
    )


@router.get("/suppressions", response_class=HTMLResponse, name="suppressions")
async def list_suppressions(
    *,
    request: Request,
    context: Context,
    session: SignedIn,
    q: Annotated[str, Query()] = "",
    cursor: Annotated[str, Query()] = "",
    done: Annotated[str, Query()] = "",
    address: Annotated[str, Query()] = "",
) -> HTMLResponse:
    """The account's suppressed addresses whose address contains ``q``, newest first."""
    notice = DONE_TEXT[done].format(address=address) if done in DONE_TEXT and address else None
    return await _page(context, request, session, q=q, cursor=cursor, notice=notice)


@router.post("/suppressions", name="add_suppression")
async def add_suppression(
    request: Request,
    context: Context,
    session: SignedIn,
    csrf: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
) -> Response:
    """Suppress an address by hand (reason "manual"); a malformed one is shown as an error."""
    check_csrf(context, session, csrf)
    try:
        listed, added = await context.services.suppressions.add(session.account, address)
    except AddressError as error:
        typed = address.strip()
        problem = (
            f"Cannot add “{typed}”: not a valid address ({error})."
            if typed
            else "Type the address to add."
        )
        return await _page(context, request, session, status_code=422, error=problem, typed=address)
    return _done(request, "added" if added else "listed", listed)


@router.post("/suppressions/remove", name="remove_suppression")
async def remove_suppression(
    request: Request,
    context: Context,
    session: SignedIn,
    csrf: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
) -> Response:
    """Take an address off the account's list: mail to it is sent again."""
    check_csrf(context, session, csrf)
    removed = await context.services.suppressions.remove(session.account, address)
    return _done(request, "removed" if removed else "absent", address.strip().lower())
