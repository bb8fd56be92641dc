"""Sign-in (a dashboard user's email and password, or an API key), sign-out, and the start page.

A good sign-in sets an HttpOnly, SameSite=Strict cookie holding a signed claim (see
:mod:`.session`): a key's digest or a user's id, never the key or the password. Every failure
gets the same message, whatever was wrong, so the page does not tell which emails or keys
exist. A sign-in posted from another site (its Origin header) is refused, against login
CSRF. Failed sign-ins are counted per client address and per email or key prefix; past the
configured number the page answers 429 with Retry-After, even for the right password. After a
sign-in the browser goes back to the page that asked for it (a path inside the dashboard only),
else to the overview. Must not keep the key or the password anywhere.
"""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import Context, DashboardContext, SignedIn, check_csrf, render
from postillon.dashboard.session import COOKIE_NAME, SessionClaim, SessionKind
from postillon.services.keys import key_digest
from postillon.services.users import AccountNeededError

router = APIRouter()
ACCOUNT_NEEDED = (
    "This email signs in to more than one account: type the name of yours and sign in again."
)
WRONG_CREDENTIALS = "Those sign-in details are not valid (unknown, mistyped or revoked)."
# Characters of an API key that identify it for throttling (its public prefix).
KEY_PREFIX_CHARS = 12
# Longest "next" path kept across sign-in.
MAX_NEXT_CHARS = 2000


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    """The dashboard's start page: the overview."""
    return RedirectResponse(str(request.url_for("overview")), status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(
    request: Request, context: Context, next_path: Annotated[str, Query(alias="next")] = ""
) -> HTMLResponse:
    """The sign-in form."""
    return render(context, request, "sign_in.html", None, error=None, next=safe_next(next_path))


@router.post("/sign-in")
async def sign_in(
    request: Request,
    context: Context,
    *,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    account: Annotated[str, Form()] = "",
    api_key: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """Check the email and password, or the key; then set the session cookie and go on."""
    if not same_origin(request):
        # Login CSRF: another site must not sign this browser in to someone else's account.
        return HTMLResponse("<h1>Sign-in refused</h1><p>Sign in from this site.</p>", 403)
    target = safe_next(next_path)
    token = api_key.strip()
    identity = f"key:{token[:KEY_PREFIX_CHARS]}" if token else f"email:{email.strip().lower()}"
    # Per client address, and per address and identity: never per identity alone, which would
    # let anyone lock a known user out by typing their email (the argon2id cost and the
    # per-address counts bound guessing instead).
    client = _client(request)
    throttle_keys = (f"ip:{client}", f"ip:{client}|{identity}")
    wait_s = context.limiter.retry_after_s(*throttle_keys)
    if wait_s is not None:
        minutes = max(1, math.ceil(wait_s / 60))
        response = render(
            context, request, "sign_in.html", None, status_code=429, next=target,
            error=f"Too many failed sign-ins. Try again in {minutes} minute(s).",
        )  # fmt: skip
        response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
        return response
    try:
        claim = await _claim(context, token, email, password, account)
    except AccountNeededError:
        return render(
            context, request, "sign_in.html", None, status_code=401, next=target,
            error=ACCOUNT_NEEDED, typed_email=email.strip(), ask_account=True,
        )  # fmt: skip
    if claim is None:
        context.limiter.record_failure(*throttle_keys)
        return render(
            context, request, "sign_in.html", None, status_code=401, error=WRONG_CREDENTIALS,
            next=target,
        )  # fmt: skip
    destination = str(request.url_for("overview"))
    if target:
        destination = (request.scope.get("root_path") or "") + target
    signed_in = RedirectResponse(destination, status_code=303)
    signed_in.set_cookie(
        COOKIE_NAME,
        context.signer.cookie_for(claim),
        max_age=int(context.signer.lifetime.total_seconds()),
        path=request.scope.get("root_path") or "/",
        httponly=True,
        samesite="strict",
        secure=cookie_is_secure(request, context.settings.public_url),
    )
    return signed_in


@router.post("/sign-out")
async def sign_out(
    request: Request, context: Context, session: SignedIn, csrf: Annotated[str, Form()] = ""
) -> Response:
    """End the session: the browser forgets the cookie, and the server refuses every session
    of this user or key issued until now, so a copy of the cookie dies too."""
    check_csrf(context, session, csrf)
    if session.claim.kind is SessionKind.KEY and session.key_id is not None:
        await context.services.keys.end_sessions(session.key_id)
    elif session.claim.kind is SessionKind.USER:
        await context.services.users.end_sessions(session.claim.subject)
    response = RedirectResponse(str(request.url_for("sign_in_form")), status_code=303)
    response.delete_cookie(COOKIE_NAME, path=request.scope.get("root_path") or "/")
    return response


def cookie_is_secure(request: Request, public_url: str | None) -> bool:
    """Whether the session cookie gets ``Secure``: the request came over https, or the
    dashboard's configured public URL is https (TLS ended at a proxy in front of us)."""
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another site (the Origin header names
    another host); True when it came from here or the client sends no Origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def safe_next(path: str) -> str:
    """``path`` when it is a path inside the dashboard (so sign-in cannot send the browser to
    another site), else the empty string."""
    if not path.startswith("/") or path.startswith("//") or len(path) > MAX_NEXT_CHARS:
        return ""
    if any(c in path for c in "\\\r\n\t") or not path.isprintable():
        return ""
    return path


async def _claim(
    context: DashboardContext, token: str, email: str, password: str, account: str
) -> SessionClaim | None:
    now = context.clock.now()
    if token:
        if await context.services.keys.authenticate(token) is None:
            return None
        return SessionClaim(SessionKind.KEY, key_digest(token), now)
    if not email.strip() or not password:
        return None
    found = await context.services.users.authenticate(email, password, account)
    if found is None:
        return None
    return SessionClaim(SessionKind.USER, found[0].id, now)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
