"""The TLS page: per recipient domain, the transport-security policies seen (DANE, MTA-STS,
opportunistic), the share of attempts verified, and failures by RFC 8460 result type.

The range is ``?range=`` as on the overview (24h, 7d, 30d); an unknown one answers 400 with the
default range and a notice. Must show only the session's account and must not change anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from postillon.dashboard.context import Context, SignedIn, render
from postillon.dashboard.overview_views import RANGES, percent, pick_range

router = APIRouter()


@router.get("/tls", response_class=HTMLResponse, name="tls")
async def tls_page(
    request: Request,
    context: Context,
    session: SignedIn,
    range_: Annotated[str | None, Query(alias="range")] = None,
) -> HTMLResponse:
    """The account's recipient domains and their transport security over the range."""
    choice, notice = pick_range(range_)
    now = context.clock.now()
    domains = await context.services.stats.tls_by_domain(session.account, choice.window(now))
    return render(
        context,
        request,
        "tls.html",
        session,
        status_code=400 if notice else 200,
        notice=notice,
        ranges=RANGES.values(),
        choice=choice,
        domains=domains,
        percent=percent,
    )
