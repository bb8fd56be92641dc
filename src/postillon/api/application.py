"""The FastAPI application: routes, the error shape, and the gate (authentication, rate
limit and body limit, before any body is read).

:func:`create_app` builds it from the node's services and settings; :mod:`.server` serves it
in our own event loop. The OpenAPI document is at ``/openapi.json``. Must not start anything
or open connections (building an app does no I/O).
"""

from __future__ import annotations

from fastapi import FastAPI

from postillon.api import error_handlers
from postillon.api.auth_gate import AuthGate
from postillon.api.body_limit import max_body_bytes
from postillon.api.context import ApiContext
from postillon.api.rate_limit import RateLimit, RateLimiter
from postillon.api.routes import domains, emails, suppressions, unsubscribe
from postillon.api.routes import webhooks as webhook_routes
from postillon.clock import Clock, SystemClock
from postillon.config.settings import Settings
from postillon.services.container import Services
from postillon.webhooks.service import WebhookService

API_TITLE = "postillon"
API_VERSION = "1"
API_DESCRIPTION = """\
Send email through postillon's own MTA.

Authenticate every request with `Authorization: Bearer pst_...`. Every error has one shape:
`{"error": {"type", "message", "fields": [{"field", "message"}]}}`; `fields` names each input
at fault with its JSON path (`to[2]`, `attachments[0].filename`, `[3].from` in a batch).
"""


def create_app(
    services: Services,
    settings: Settings,
    *,
    clock: Clock | None = None,
    rate_limit: RateLimit | None = None,
    webhooks: WebhookService | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The API over ``services``; ``rate_limit`` per key (default: :class:`RateLimit`), or
    ``limiter`` when the buckets are shared with another door (SMTP submission).

    ``/v1/webhooks`` is served when ``webhooks`` (the endpoint service) is given.
    """
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    limiter = limiter or RateLimiter(rate_limit or RateLimit(), clock or SystemClock())
    app.state.postillon = ApiContext(
        services=services, settings=settings, limiter=limiter, webhooks=webhooks
    )
    error_handlers.install(app)
    app.include_router(emails.router)
    app.include_router(domains.router)
    app.include_router(suppressions.router)
    app.include_router(unsubscribe.router)
    if webhooks is not None:
        app.include_router(webhook_routes.router)
    app.add_middleware(
        AuthGate,
        keys=services.keys,
        limiter=limiter,
        max_body_bytes=max_body_bytes(settings.api.max_message_bytes),
    )
    return app
