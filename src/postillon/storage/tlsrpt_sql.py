"""TLS-RPT (RFC 8460) counts and report claims in the database.

Owns: adding sessions to the per-day counts (an upsert that increments, inside the caller's
transaction, so the count commits with the attempt row and is neither lost nor doubled by a
restart or a second node; each node increments its own rows, so concurrent nodes never wait on
one hot row), reading a day's counts summed over nodes, and the claim on a day's
report for a domain (one row per day and domain; the node that claims it sends it, a claim that
ran out can be taken over, a sent report is never claimed again). It must not decide result
types nor build reports.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.storage.connect import Engines
from postillon.storage.records import TlsRptSession
from postillon.storage.schema import tlsrpt_counts, tlsrpt_reports

_KEYS = ("day", "policy_domain", "policy_key", "mx_host", "result_type", "receiving_ip")


@dataclass(frozen=True)
class TlsRptCount:
    """Sessions of one kind on one day (a row of ``tlsrpt_counts``)."""

    session: TlsRptSession
    sessions: int


def _policy_key(session: TlsRptSession) -> str:
    text = json.dumps([session.policy_type, list(session.policy_strings)])
    return hashlib.sha256(text.encode()).hexdigest()


async def count_sessions(
    connection: AsyncConnection, sessions: Sequence[TlsRptSession], node: str = ""
) -> None:
    """Add the sessions to ``node``'s counts (inside the caller's transaction): one upsert per
    distinct kind of session in the batch, on rows only this node writes."""
    if not sessions:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    for session, n in sorted(Counter(sessions).items(), key=lambda item: _sort_key(item[0])):
        values = {
            "day": session.day,
            "policy_domain": session.policy_domain,
            "policy_key": _policy_key(session),
            "mx_host": session.mx_host,
            "result_type": session.result_type,
            "receiving_ip": session.receiving_ip,
            "node": node,
            "policy_type": session.policy_type,
            "policy_strings": json.dumps(list(session.policy_strings)),
            "sessions": n,
        }
        statement = dialect.insert(tlsrpt_counts).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[tlsrpt_counts.c[k] for k in (*_KEYS, "node")],
            set_={"sessions": tlsrpt_counts.c.sessions + statement.excluded.sessions},
        )
        await connection.execute(statement)


def _sort_key(session: TlsRptSession) -> tuple[str, ...]:
    # One order for every batch: two transactions of one node never lock rows crosswise.
    return (
        session.day,
        session.policy_domain,
        _policy_key(session),
        session.mx_host,
        session.result_type,
        session.receiving_ip,
    )


async def day_counts(connection: AsyncConnection, day: str) -> list[TlsRptCount]:
    """Every count of ``day``, ordered by policy domain."""
    keys = [tlsrpt_counts.c[k] for k in _KEYS]
    rows = await connection.execute(
        sa.select(
            *keys,
            sa.func.min(tlsrpt_counts.c.policy_type).label("policy_type"),
            sa.func.min(tlsrpt_counts.c.policy_strings).label("policy_strings"),
            sa.func.sum(tlsrpt_counts.c.sessions).label("sessions"),
        )
        .where(tlsrpt_counts.c.day == day)
        .group_by(*keys)  # summed over the nodes that counted
        .order_by(*keys)
    )
    return [
        TlsRptCount(
            TlsRptSession(
                day=row.day,
                policy_domain=row.policy_domain,
                policy_type=row.policy_type,
                policy_strings=tuple(json.loads(row.policy_strings)),
                mx_host=row.mx_host,
                result_type=row.result_type,
                receiving_ip=row.receiving_ip,
            ),
            int(row.sessions),
        )
        for row in rows
    ]


async def claim_report(
    connection: AsyncConnection,
    *,
    day: str,
    policy_domain: str,
    report_id: str,
    owner: str,
    now: datetime,
    hold: timedelta,
) -> bool:
    """Take the right to send ``day``'s report for ``policy_domain``; False if it was sent or
    another node holds an unexpired claim."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    inserted = await connection.execute(
        dialect.insert(tlsrpt_reports)
        .values(
            day=day,
            policy_domain=policy_domain,
            report_id=report_id,
            claimed_by=owner,
            claimed_until=now + hold,
        )
        .on_conflict_do_nothing(index_elements=["day", "policy_domain"])
    )
    if inserted.rowcount == 1:
        return True
    taken = await connection.execute(
        sa.update(tlsrpt_reports)
        .where(
            tlsrpt_reports.c.day == day,
            tlsrpt_reports.c.policy_domain == policy_domain,
            tlsrpt_reports.c.sent_at.is_(None),
            tlsrpt_reports.c.claimed_until < now,
        )
        .values(claimed_by=owner, claimed_until=now + hold)
    )
    return taken.rowcount == 1


async def finish_report(
    connection: AsyncConnection,
    *,
    day: str,
    policy_domain: str,
    owner: str,
    now: datetime,
    error: str | None,
) -> None:
    """Record the send: ``error`` None marks it sent for good; otherwise the claim is released
    (it runs out now) so the next pass tries again."""
    values: dict[str, object] = {"last_error": error}
    if error is None:
        values["sent_at"] = now
    else:
        values["claimed_until"] = now
    await connection.execute(
        sa.update(tlsrpt_reports)
        .where(
            tlsrpt_reports.c.day == day,
            tlsrpt_reports.c.policy_domain == policy_domain,
            tlsrpt_reports.c.claimed_by == owner,
        )
        .values(**values)
    )


class SqlTlsRpt:
    """The TLS-RPT tables over the store's engines, one transaction per call."""

    def __init__(self, engines: Engines) -> None:
        self._engines = engines

    async def counts(self, day: str) -> list[TlsRptCount]:
        """Every count of ``day``."""
        async with self._engines.writer.connect() as connection:
            return await day_counts(connection, day)

    async def claim(
        self,
        *,
        day: str,
        policy_domain: str,
        report_id: str,
        owner: str,
        now: datetime,
        hold: timedelta,
    ) -> bool:
        """See :func:`claim_report`; committed before it returns."""
        async with self._engines.write() as connection:
            return await claim_report(
                connection,
                day=day,
                policy_domain=policy_domain,
                report_id=report_id,
                owner=owner,
                now=now,
                hold=hold,
            )

    async def forget_before(self, day: str) -> int:
        """Delete counts and report rows of days before ``day``; how many count rows went."""
        async with self._engines.write() as connection:
            gone = await connection.execute(
                sa.delete(tlsrpt_counts).where(tlsrpt_counts.c.day < day)
            )
            await connection.execute(sa.delete(tlsrpt_reports).where(tlsrpt_reports.c.day < day))
            return int(gone.rowcount or 0)

    async def finish(
        self, *, day: str, policy_domain: str, owner: str, now: datetime, error: str | None
    ) -> None:
        """See :func:`finish_report`; committed before it returns."""
        async with self._engines.write() as connection:
            await finish_report(
                connection,
                day=day,
                policy_domain=policy_domain,
                owner=owner,
                now=now,
                error=error,
            )
