"""The dashboard app: builds the FastAPI sub-application the node mounts at /dashboard.

:func:`create_dashboard` wires the templates, the static files (one CSS file), the session
signer and the routes. Building it does no I/O. Must not be imported by the API package.
"""

from __future__ import annotations

import math
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from postillon.clock import Clock
from postillon.config.settings import DashboardSettings
from postillon.dashboard import (
    auth_routes,
    domain_routes,
    key_routes,
    message_routes,
    overview_routes,
    suppression_routes,
    tls_routes,
    user_routes,
    views,
    webhook_routes,
)
from postillon.dashboard.context import (
    ACTION_LIMIT,
    ActionsThrottled,
    CsrfRefused,
    DashboardContext,
    SignInRequired,
)
from postillon.dashboard.security_headers import SecurityHeaders
from postillon.dashboard.session import SessionSigner
from postillon.dashboard.sign_in_limit import SignInLimiter
from postillon.services.container import Services
from postillon.services.rate_limit import RateLimiter
from postillon.storage.protocol import Store
from postillon.webhooks.service import WebhookService

HERE = Path(__file__).parent
# 256 bits of session secret: an HMAC-SHA256 key as long as its output.
SECRET_OCTETS = 32


def create_dashboard(
    services: Services,
    store: Store,
    clock: Clock,
    *,
    webhooks: WebhookService,
    settings: DashboardSettings | None = None,
    secret: bytes | None = None,
) -> FastAPI:
    """The dashboard over ``services``, ``store`` and ``webhooks``; ``secret`` signs session
    cookies (default: ``[dashboard] session_secret``, else random per process, so a restart
    signs everyone out)."""
    settings = settings or DashboardSettings()
    secret = secret or settings.secret_octets() or secrets.token_bytes(SECRET_OCTETS)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=HERE / "templates")
    views.install_filters(templates.env)
    app.state.dashboard = DashboardContext(
        services=services,
        store=store,
        signer=SessionSigner(secret),
        templates=templates,
        webhooks=webhooks,
        clock=clock,
        settings=settings,
        limiter=SignInLimiter(settings.sign_in_attempts, settings.sign_in_window_s, clock),
        actions=RateLimiter(ACTION_LIMIT, clock),
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth_routes.router)
    app.include_router(overview_routes.router)
    app.include_router(message_routes.router)
    app.include_router(domain_routes.router)
    app.include_router(key_routes.router)
    app.include_router(user_routes.router)
    app.include_router(suppression_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(tls_routes.router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: Exception) -> Response:
        target = request.url_for("sign_in_form")
        if request.method == "GET":
            # Come back here after signing in: the path inside the dashboard, with its query.
            inside = request.url.path.removeprefix(request.scope.get("root_path") or "")
            if request.url.query:
                inside += "?" + request.url.query
            if inside not in ("", "/"):
                target = target.include_query_params(next=inside)
        return RedirectResponse(str(target), status_code=303)

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(ActionsThrottled)
    async def _throttled(_: Request, exc: Exception) -> Response:
        wait = max(1, math.ceil(getattr(exc, "retry_after_s", 1.0)))
        return HTMLResponse(
            f"<h1>Slow down</h1><p>Too many actions on this account; try again in {wait} s.</p>",
            429,
            headers={"Retry-After": str(wait)},
        )

    @app.exception_handler(CsrfRefused)
    async def _csrf(_: Request, __: Exception) -> Response:
        return HTMLResponse("<h1>Form expired</h1><p>Reload the page and try again.</p>", 403)

    return app
