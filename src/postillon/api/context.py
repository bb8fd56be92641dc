"""What every route needs, and the dependency that authenticates and rate-limits a request.

Owns :class:`ApiContext` (services, settings, the rate limiter, the webhook endpoint service;
one per app, kept in ``app.state``) and :func:`current_account`: ``Authorization: Bearer
pst_...`` is checked by the key service on every request (a revoked key is refused at once:
nothing is cached here), then the key's token bucket is charged. Must not decide what a key
may do beyond that.

SECURITY: buckets are keyed by the key's SHA-256 digest, never the key; every 401 says the
same for a missing, malformed, unknown or revoked key, so the answer reveals nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from postillon.api.problems import ApiError, ErrorType
from postillon.api.rate_limit import RateLimiter
from postillon.config.settings import Settings
from postillon.services.container import Services
from postillon.services.keys import key_digest
from postillon.storage.records import Account
from postillon.webhooks.service import WebhookService

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (pst_...) made with `postillon keys create --account NAME`.",
)
UNAUTHORIZED = "send a valid API key as Authorization: Bearer pst_..."


@dataclass(frozen=True)
class ApiContext:
    """The services and settings the routes use, and the per-key rate limiter.

    ``webhooks`` is None in an app built without the webhook endpoints (no ``/v1/webhooks``).
    """

    services: Services
    settings: Settings
    limiter: RateLimiter
    webhooks: WebhookService | None = None


def api_context(request: Request) -> ApiContext:
    """The context of the app serving ``request``."""
    return cast(ApiContext, request.app.state.postillon)


async def current_account(
    context: Annotated[ApiContext, Depends(api_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    """The account of the request's API key, after charging the key's rate limit.

    Raises ApiError 401 (no, bad or revoked key) or 429 with Retry-After (whole seconds,
    rounded up: RFC 9110 §10.2.3 allows no fractions).
    """
    if credentials is None:
        raise _unauthorized()
    token = credentials.credentials
    account = await context.services.keys.authenticate(token)
    if account is None:
        raise _unauthorized()
    decision = context.limiter.take(key_digest(token))
    if not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after_s))
        raise ApiError(
            429,
            ErrorType.RATE_LIMITED,
            f"too many requests with this API key; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    return account


def _unauthorized() -> ApiError:
    return ApiError(
        401, ErrorType.UNAUTHORIZED, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}
    )


Context = Annotated[ApiContext, Depends(api_context)]
CurrentAccount = Annotated[Account, Depends(current_account)]
