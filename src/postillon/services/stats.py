"""What the dashboard shows about one account's sending: the overview over a window (counts per
bucket and the queue now) and transport security per recipient domain.

Owns the one road from the edges to the statistics read models (storage/stats_sql.py and
storage/tls_stats_sql.py), with the records the pages render, so the dashboard asks a service
as it does for everything else. Every call is scoped to the account passed in. It must not know
about HTTP or format anything.
"""

from __future__ import annotations

from datetime import datetime

from postillon.storage.records import Account
from postillon.storage.stats_sql import Counts, Overview, QueueNow, SqlStats, Window
from postillon.storage.tls_stats_sql import DomainTls, SqlTlsStats

__all__ = ["Counts", "DomainTls", "Overview", "QueueNow", "StatsService", "Window"]


class StatsService:
    """One account's delivery statistics, over the aggregate reads."""

    def __init__(self, stats: SqlStats, tls: SqlTlsStats) -> None:
        self._stats = stats
        self._tls = tls

    async def overview(self, account: Account, window: Window, now: datetime) -> Overview:
        """The account's counts per bucket of ``window`` and its queue at ``now``."""
        return await self._stats.overview(account.id, window, now)

    async def tls_by_domain(self, account: Account, window: Window) -> list[DomainTls]:
        """Per recipient domain, the transport security of the account's attempts started in
        ``window``."""
        return await self._tls.by_domain(account.id, window.start, window.end)
