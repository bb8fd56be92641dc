"""Domains: the account's sender domains, one domain's records table, and "Verify now".

Must not touch DNS itself: verification is the domain service's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import Context, SignedIn, check_csrf, render
from postillon.errors import PostillonError
from postillon.services.errors import NotFoundError

router = APIRouter()


@router.get("/domains", response_class=HTMLResponse, name="domains")
async def list_domains(request: Request, context: Context, session: SignedIn) -> HTMLResponse:
    """The account's sender domains with their status."""
    domains = await context.services.domains.list(session.account)
    return render(context, request, "domains.html", session, domains=domains)


@router.get("/domains/{name}", response_class=HTMLResponse, name="domain")
async def show_domain(
    request: Request, context: Context, session: SignedIn, name: str, error: str = ""
) -> HTMLResponse:
    """One domain: the records to publish, what DNS holds, their status."""
    try:
        domain = await context.services.domains.get(session.account, name)
    except NotFoundError:
        return render(context, request, "not_found.html", session, status_code=404)
    return render(context, request, "domain.html", session, domain=domain, error=error)


@router.post("/domains/{name}/verify", name="verify")
async def verify(
    request: Request,
    context: Context,
    session: SignedIn,
    name: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Check the domain's records in DNS now."""
    check_csrf(context, session, csrf)
    target = str(request.url_for("domain", name=name))
    try:
        await context.services.domains.verify(session.account, name)
    except NotFoundError:
        return render(context, request, "not_found.html", session, status_code=404)
    except PostillonError as exc:
        return RedirectResponse(f"{target}?error={type(exc).__name__}", status_code=303)
    return RedirectResponse(target, status_code=303)
