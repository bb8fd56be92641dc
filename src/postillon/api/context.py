"""What every route needs, and the dependency that authenticates and rate-limits a request.

Owns :class:`ApiContext` (services, settings, the rate limiter, the webhook endpoint service;
one per app, kept in ``app.state``) and :func:`current_account`, which hands routes the account
that :mod:`.auth_gate` authenticated before the body was read (a revoked key is refused at once:
nothing is cached). Must not decide what a key may do beyond that.

SECURITY: buckets are keyed by the key's SHA-256 digest, never the key; every 401 says the
same for a missing, malformed, unknown or revoked key, so the answer reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from postillon.api.auth_gate import ACCOUNT_STATE_KEY, unauthorized
from postillon.api.rate_limit import RateLimiter
from postillon.config.settings import Settings
from postillon.services.container import Services
from postillon.storage.records import Account
from postillon.webhooks.service import WebhookService

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (pst_...) made with `postillon keys create --account NAME`.",
)


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
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    """The account :class:`.auth_gate.AuthGate` authenticated (and rate-limited) before the
    body was read. ``credentials`` is declared for the OpenAPI document's security scheme.

    Raises ApiError 401 when the gate found no account (an app built without it).
    """
    account = request.scope.get("state", {}).get(ACCOUNT_STATE_KEY)
    if not isinstance(account, Account):
        raise unauthorized()
    return account


Context = Annotated[ApiContext, Depends(api_context)]
CurrentAccount = Annotated[Account, Depends(current_account)]
