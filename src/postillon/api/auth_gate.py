"""Authentication and rate limiting before any request body is read (the ASGI layer).

Owns the order of work for every HTTP request the app serves: a ``/v1`` request is
authenticated (``Authorization: Bearer pst_...``, checked by the key service) and its key's
token bucket charged from the headers alone; a missing, bad or revoked key gets its 401, and an
empty bucket its 429, without one byte of the body being read. Only then is the body let
through, up to the message-sized limit. Every other request (the dashboard, ``/openapi.json``)
has not proven anything yet, so it gets a small body limit: forms, never messages.

The account found is left in the ASGI scope's ``state`` for :func:`.context.current_account`.
Must not parse bodies or decide what a key may do.
"""

from __future__ import annotations

import math

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from postillon.api.body_limit import BodyLimit
from postillon.api.error_handlers import api_error
from postillon.api.problems import ApiError, ErrorType
from postillon.api.rate_limit import RateLimiter
from postillon.services.keys import ApiKeyService, key_digest

log = structlog.get_logger("postillon.api")

# The API's paths: every one of them needs a key.
API_PREFIX = "/v1/"
# A request that proved nothing (the dashboard's forms, sign-in included) carries at most this
# much: the largest dashboard form is a few kilobytes; a message never goes through it.
UNAUTHENTICATED_BODY_BYTES = 64 * 1024
# Where the account found is left in the scope's state.
ACCOUNT_STATE_KEY = "postillon_account"
UNAUTHORIZED = "send a valid API key as Authorization: Bearer pst_..."
_BEARER = "bearer "


def unauthorized() -> ApiError:
    """The one 401: the same for a missing, malformed, unknown or revoked key."""
    return ApiError(
        401, ErrorType.UNAUTHORIZED, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}
    )


def rate_limited(retry_after_s: float) -> ApiError:
    """The 429, with Retry-After in whole seconds rounded up (RFC 9110 §10.2.3)."""
    retry_after = max(1, math.ceil(retry_after_s))
    return ApiError(
        429,
        ErrorType.RATE_LIMITED,
        f"too many requests with this API key; retry after {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def bearer_token(scope: Scope) -> str | None:
    """The token of the request's ``Authorization: Bearer`` header, if it has one."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[: len(_BEARER)].lower() == _BEARER:
                token = text[len(_BEARER) :].strip()
                return token or None
            return None
    return None


class AuthGate:
    """Wraps the app: authenticate and rate-limit ``/v1`` requests before their bodies."""

    def __init__(
        self, app: ASGIApp, *, keys: ApiKeyService, limiter: RateLimiter, max_body_bytes: int
    ) -> None:
        self._keys = keys
        self._limiter = limiter
        self._authenticated = BodyLimit(app, max_body_bytes)
        self._unauthenticated = BodyLimit(app, UNAUTHENTICATED_BODY_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._authenticated(scope, receive, send)
            return
        if not str(scope.get("path", "")).startswith(API_PREFIX):
            await self._unauthenticated(scope, receive, send)
            return
        token = bearer_token(scope)
        try:
            account = None if token is None else await self._keys.authenticate(token)
        except Exception as exc:  # the store is down (503) or worse (500, logged)
            error = api_error(exc)
            if error.status >= 500:
                log.error("api.error", path=scope.get("path"), error=repr(exc))
            await _answer(error, scope, receive, send)
            return
        if token is None or account is None:
            await _answer(unauthorized(), scope, receive, send)
            return
        decision = self._limiter.take(key_digest(token))
        if not decision.allowed:
            await _answer(rate_limited(decision.retry_after_s), scope, receive, send)
            return
        scope.setdefault("state", {})[ACCOUNT_STATE_KEY] = account
        await self._authenticated(scope, receive, send)


async def _answer(error: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
    # The body is never read: the server closes the connection after the answer.
    response = JSONResponse(error.body(), status_code=error.status, headers=error.headers)
    await response(scope, receive, send)
