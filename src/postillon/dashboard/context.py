"""What every dashboard page needs, and the dependency that finds the signed-in account.

Owns :class:`DashboardContext` (services, store, the key table, the session signer, the
sign-in limiter, the templates; one per dashboard app, in ``app.state``), :func:`signed_in`
(the session cookie's claim looked up on every request: an unknown or revoked key, a removed
user, a password changed or a sign-out since the sign-in sends the browser to sign in; every
action, not GET or HEAD, charged to the account's bucket), :func:`render`
and :func:`not_found`.
Must not decide what a page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from postillon.clock import Clock
from postillon.config.settings import DashboardSettings
from postillon.dashboard.session import COOKIE_NAME, SessionClaim, SessionKind, SessionSigner
from postillon.dashboard.sign_in_limit import SignInLimiter
from postillon.services.container import Services
from postillon.services.rate_limit import RateLimit, RateLimiter
from postillon.storage.protocol import Store
from postillon.storage.records import Account
from postillon.webhooks.service import WebhookService


class SignInRequired(Exception):
    """No valid session: the app answers with a redirect to the sign-in page."""


class CsrfRefused(Exception):
    """A form posted without this session's CSRF token: the app answers 403."""


# What one account may do through the dashboard: a person clicks far slower; a script looping
# on "add domain" or "test event" meets the wall within seconds.
ACTION_LIMIT = RateLimit(rate_per_s=2.0, burst=30)


class ActionsThrottled(Exception):
    """The account's dashboard actions are over their rate: the app answers 429."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("too many dashboard actions")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class DashboardContext:
    """The services and helpers the pages use."""

    services: Services
    store: Store
    signer: SessionSigner
    templates: Jinja2Templates
    webhooks: WebhookService
    clock: Clock
    settings: DashboardSettings
    limiter: SignInLimiter
    # Per account: the dashboard's actions (every request but GET and HEAD) draw from one
    # bucket, as the API's requests draw from their key's.
    actions: RateLimiter


@dataclass(frozen=True)
class Session:
    """The signed-in account, what signed in (an API key's id or a user's email), the claim of
    the cookie and the session's CSRF token."""

    account: Account
    claim: SessionClaim
    csrf: str
    key_id: str | None = None
    user_email: str | None = None


def dashboard_context(request: Request) -> DashboardContext:
    """The context of the dashboard serving ``request``."""
    return cast(DashboardContext, request.app.state.dashboard)


async def signed_in(
    request: Request, context: Annotated[DashboardContext, Depends(dashboard_context)]
) -> Session:
    """The session of ``request``; raises SignInRequired without a live key or user behind it,
    ActionsThrottled when an action (not GET or HEAD) finds its account's bucket empty."""
    session = await _session(request, context)
    if request.method not in ("GET", "HEAD"):
        decision = context.actions.take(session.account.id)
        if not decision.allowed:
            raise ActionsThrottled(decision.retry_after_s)
    return session


async def _session(request: Request, context: DashboardContext) -> Session:
    claim = context.signer.claim_from(request.cookies.get(COOKIE_NAME), context.clock.now())
    if claim is None:
        raise SignInRequired
    csrf = context.signer.csrf_token(claim)
    if claim.kind is SessionKind.KEY:
        found = await context.services.keys.session_key(claim.subject, claim.issued_at)
        if found is None:
            raise SignInRequired
        return Session(found[1], claim, csrf, key_id=found[0].id)
    user = await context.services.users.session_user(claim.subject)
    if user is None or user[0].password_changed_at > claim.issued_at:
        raise SignInRequired
    ended = user[0].sessions_ended_at
    if ended is not None and claim.issued_at < ended:
        raise SignInRequired
    return Session(user[1], claim, csrf, user_email=user[0].email)


def check_csrf(context: DashboardContext, session: Session, token: str) -> None:
    """Raise CsrfRefused unless ``token`` is the session's CSRF token."""
    if not context.signer.csrf_ok(session.claim, token):
        raise CsrfRefused


def render(
    context: DashboardContext,
    request: Request,
    template: str,
    session: Session | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """The page ``template`` with ``values``, the session and the request."""
    return context.templates.TemplateResponse(
        request, template, {"session": session, **values}, status_code=status_code
    )


def not_found(context: DashboardContext, request: Request, session: Session) -> HTMLResponse:
    """The not-found page (404): an unknown thing and another account's read the same."""
    return render(context, request, "not_found.html", session, status_code=404)


Context = Annotated[DashboardContext, Depends(dashboard_context)]
SignedIn = Annotated[Session, Depends(signed_in)]
