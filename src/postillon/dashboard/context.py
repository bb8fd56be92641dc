"""What every dashboard page needs, and the dependency that finds the signed-in account.

Owns :class:`DashboardContext` (services, store, the key table, the session signer, the
templates; one per dashboard app, in ``app.state``), :func:`signed_in` (the session cookie's
key digest looked up on every request: unknown or revoked sends the browser to sign in) and
:func:`render`. Must not decide what a page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from postillon.dashboard.session import COOKIE_NAME, SessionSigner
from postillon.services.container import Services
from postillon.storage.api_keys_sql import SqlApiKeys
from postillon.storage.protocol import Store
from postillon.storage.records import Account


class SignInRequired(Exception):
    """No valid session: the app answers with a redirect to the sign-in page."""


class CsrfRefused(Exception):
    """A form posted without this session's CSRF token: the app answers 403."""


@dataclass(frozen=True)
class DashboardContext:
    """The services and helpers the pages use."""

    services: Services
    store: Store
    keys: SqlApiKeys
    signer: SessionSigner
    templates: Jinja2Templates


@dataclass(frozen=True)
class Session:
    """The signed-in account, the digest of the key it signed in with, the CSRF token."""

    account: Account
    key_digest: str
    key_id: str
    csrf: str


def dashboard_context(request: Request) -> DashboardContext:
    """The context of the dashboard serving ``request``."""
    return cast(DashboardContext, request.app.state.dashboard)


async def signed_in(
    request: Request, context: Annotated[DashboardContext, Depends(dashboard_context)]
) -> Session:
    """The session of ``request``; raises SignInRequired without a live key behind it."""
    digest = context.signer.digest_from(request.cookies.get(COOKIE_NAME))
    if digest is None:
        raise SignInRequired
    found = await context.keys.find_by_digest(digest)
    if found is None or found[0].revoked_at is not None:
        raise SignInRequired
    record, account = found
    return Session(account, digest, record.id, context.signer.csrf_token(digest))


def check_csrf(context: DashboardContext, session: Session, token: str) -> None:
    """Raise CsrfRefused unless ``token`` is the session's CSRF token."""
    if not context.signer.csrf_ok(session.key_digest, token):
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


Context = Annotated[DashboardContext, Depends(dashboard_context)]
SignedIn = Annotated[Session, Depends(signed_in)]
