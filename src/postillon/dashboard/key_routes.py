"""API keys: the account's keys, a new key (shown once), revoke.

Must not show a key after the page that created it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import Context, SignedIn, check_csrf, not_found, render
from postillon.services.errors import NotFoundError

router = APIRouter()


@router.get("/keys", response_class=HTMLResponse, name="keys")
async def list_keys(request: Request, context: Context, session: SignedIn) -> HTMLResponse:
    """The account's keys, newest first."""
    keys = await context.services.keys.list(session.account.id)
    return render(context, request, "keys.html", session, keys=keys, new_key=None)


@router.post("/keys", response_class=HTMLResponse, name="create_key")
async def create_key(
    request: Request, context: Context, session: SignedIn, csrf: Annotated[str, Form()] = ""
) -> HTMLResponse:
    """A new key for the account, shown on this page only."""
    check_csrf(context, session, csrf)
    _, token = await context.services.keys.create(session.account.name)
    keys = await context.services.keys.list(session.account.id)
    response = render(context, request, "keys.html", session, keys=keys, new_key=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/keys/{key_id}/revoke", name="revoke_key")
async def revoke_key(
    request: Request,
    context: Context,
    session: SignedIn,
    key_id: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Revoke one of the account's keys (the session's own key signs it out)."""
    check_csrf(context, session, csrf)
    try:
        await context.services.keys.revoke(session.account.id, key_id)
    except NotFoundError:
        return not_found(context, request, session)
    return RedirectResponse(str(request.url_for("keys")), status_code=303)
