"""The overview: sent, delivered, deferred, bounced and suppressed over a range of time (charts
and totals), the bounce rate, the shares of deliveries over TLS and over verified TLS, and the
queue now (depth and the message waiting longest).

The range is the query string's ``range`` (24h, 7d or 30d), so each view is a plain link that
works without JavaScript; an unknown range answers 400 with the default range's page and a
notice saying so. Must show only the session's account (every count is asked for it) and must
not change anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from postillon.dashboard.charts import render as render_chart
from postillon.dashboard.context import Context, SignedIn, render
from postillon.dashboard.overview_views import RANGES, charts, percent, pick_range, waited

router = APIRouter()


@router.get("/overview", response_class=HTMLResponse, name="overview")
async def overview_page(
    request: Request,
    context: Context,
    session: SignedIn,
    range_: Annotated[str | None, Query(alias="range")] = None,
) -> HTMLResponse:
    """The account's overview over the range named by ``?range=`` (default: 24 hours)."""
    choice, notice = pick_range(range_)
    now = context.clock.now()
    overview = await context.services.stats.overview(session.account, choice.window(now), now)
    accepted, attempted = charts(overview, choice)
    return render(
        context,
        request,
        "overview.html",
        session,
        status_code=400 if notice else 200,
        notice=notice,
        ranges=RANGES.values(),
        choice=choice,
        now=now,
        totals=overview.totals,
        queue=overview.queue,
        charts=(render_chart(accepted), render_chart(attempted)),
        percent=percent,
        waited=waited,
    )
