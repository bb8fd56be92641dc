"""Sign-in with an API key and sign-out.

The form posts the key once; the answer sets an HttpOnly, SameSite=Strict cookie holding the
key's signed digest (see :mod:`.session`), never the key. A wrong key gets the same message
whatever was wrong. Must not keep the key anywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import Context, SignedIn, check_csrf, render
from postillon.dashboard.session import COOKIE_NAME
from postillon.services.keys import key_digest

router = APIRouter()
WRONG_KEY = "That API key is not valid (unknown, mistyped or revoked)."
# A session lasts a working day; signing in again is one paste.
SESSION_MAX_AGE_S = 12 * 3600


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    """The dashboard's start page: the message list."""
    return RedirectResponse(str(request.url_for("messages")), status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, context: Context) -> HTMLResponse:
    """The sign-in form."""
    return render(context, request, "sign_in.html", None, error=None)


@router.post("/sign-in")
async def sign_in(
    request: Request, context: Context, api_key: Annotated[str, Form()] = ""
) -> Response:
    """Check the key, then set the session cookie and go to the messages."""
    token = api_key.strip()
    account = await context.services.keys.authenticate(token)
    if account is None:
        return render(context, request, "sign_in.html", None, status_code=401, error=WRONG_KEY)
    response = RedirectResponse(str(request.url_for("messages")), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        context.signer.cookie_for(key_digest(token)),
        max_age=SESSION_MAX_AGE_S,
        path=request.scope.get("root_path") or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request, context: Context, session: SignedIn, csrf: Annotated[str, Form()] = ""
) -> Response:
    """Forget the session cookie."""
    check_csrf(context, session, csrf)
    response = RedirectResponse(str(request.url_for("sign_in_form")), status_code=303)
    response.delete_cookie(COOKIE_NAME, path=request.scope.get("root_path") or "/")
    return response
