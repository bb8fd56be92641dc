"""Transport security per recipient domain, for the dashboard's TLS page: one account, a window.

Owns one grouped query over the attempts started in the window (the ``started_at`` index, as
the overview reads them) joined to their recipient and message: per recipient domain, the
policies seen (``dane``, ``mta-sts-*``, ``opportunistic``; attempts recorded before 0010 have
none), how many attempts reached a server, how many ran over TLS, how many were verified
(Web PKI or DANE), and the failures by RFC 8460 result type. It must not write anything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from postillon.storage.schema import attempts, messages, recipients
from postillon.storage.transactions import Transactions

# Domains one page lists, busiest first: the page is a summary, not an export.
MAX_DOMAINS = 200


@dataclass
class DomainTls:
    """One recipient domain's transport security over the window."""

    domain: str
    attempts: int = 0
    over_tls: int = 0
    verified: int = 0
    policies: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def verified_share(self) -> float | None:
        """Verified attempts over attempts (None without any)."""
        return self.verified / self.attempts if self.attempts else None


class SqlTlsStats:
    """The TLS page's read model."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def by_domain(self, account_id: str, start: datetime, end: datetime) -> list[DomainTls]:
        """The account's recipient domains with attempts in [start, end), busiest first."""
        verified = sa.func.coalesce(attempts.c.tls_verified, sa.false())
        query = (
            sa.select(
                recipients.c.domain,
                attempts.c.tls_policy,
                attempts.c.tls_used,
                verified.label("verified"),
                attempts.c.tls_result,
                sa.func.count().label("n"),
            )
            .select_from(
                attempts.join(recipients, recipients.c.id == attempts.c.recipient_id).join(
                    messages, messages.c.id == recipients.c.message_id
                )
            )
            .where(
                messages.c.account_id == account_id,
                attempts.c.started_at >= start,
                attempts.c.started_at < end,
                attempts.c.mx_host.is_not(None),  # reached routing: a session or a refusal
            )
            .group_by(
                recipients.c.domain,
                attempts.c.tls_policy,
                attempts.c.tls_used,
                verified,
                attempts.c.tls_result,
            )
        )
        domains: dict[str, DomainTls] = {}
        async with self._tx.read() as connection:
            for row in await connection.execute(query):
                entry = domains.setdefault(row.domain, DomainTls(row.domain))
                n = int(row.n)
                entry.attempts += n
                entry.over_tls += n if row.tls_used else 0
                entry.verified += n if row.tls_used and row.verified else 0
                entry.policies[row.tls_policy or "unrecorded"] += n
                if row.tls_result:
                    entry.failures[row.tls_result] += n
        ordered = sorted(domains.values(), key=lambda d: (-d.attempts, d.domain))
        return ordered[:MAX_DOMAINS]
