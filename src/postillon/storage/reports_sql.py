"""Reports received by mail, stored with what they did, in one commit.

Owns the ``inbound_reports`` rows and applying a report's effects in the same transaction as
the row: a late bounce moves a recipient only where queue.status allows it by report
(DELIVERED -> BOUNCED; a second report of the same bounce changes nothing and announces
nothing), suppressions are added with their reason, and each effect's event goes to the outbox.
What a complaint does (:func:`complaint_effect`, :func:`apply_effect`) is defined once here, for
ARF reports and for the sandbox's simulated complaint alike.
Also the reads the inbound side needs (the message a return path names) and the reports of an
account or a message, newest first. It must not read reports (reports/ does) nor decide what
they mean (services/ does), nor open transactions of its own beyond :class:`Transactions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.events import EventType
from postillon.queue.status import RecipientStatus, can_transition_late
from postillon.storage import suppression_list
from postillon.storage.outbox import event_row, insert_events
from postillon.storage.schema import (
    REPORT_HEAD_OCTETS,
    inbound_reports,
    messages,
    recipients,
    sender_domains,
)
from postillon.storage.transactions import Transactions

REPORT_ID_PREFIX = "rpt_"


@dataclass(frozen=True)
class MessageRecipient:
    """One recipient of a message a return path names."""

    id: str
    address: str
    status: RecipientStatus


@dataclass(frozen=True)
class ReturnPathMessage:
    """What the inbound side needs of the message a return path names."""

    id: str
    account_id: str
    mail_from: str
    tags: tuple[str, ...]
    metadata: Mapping[str, str]
    recipients: tuple[MessageRecipient, ...]


@dataclass(frozen=True)
class ReportEffect:
    """What a report does to one recipient: an event, maybe a late status, maybe a
    suppression. ``new_status`` None changes no status (delays, complaints); an effect whose
    status move is not allowed (already bounced) is dropped whole, event included."""

    recipient_id: str
    address: str
    event_type: EventType
    payload: Mapping[str, Any]
    new_status: RecipientStatus | None = None
    bounce_class: str | None = None
    reply_code: int | None = None
    enhanced_code: str | None = None
    reply_text: str | None = None
    suppress_reason: str | None = None
    suppress_detail: str | None = None


def complaint_effect(
    *, recipient_id: str, address: str, payload: Mapping[str, Any], feedback_type: str
) -> ReportEffect:
    """What a complaint does to the recipient it names, whether it came as an ARF report or
    from the sandbox's complained@: ``email.complained`` and suppression with reason
    ``complaint`` (no status change: the mail was delivered)."""
    return ReportEffect(
        recipient_id=recipient_id,
        address=address,
        event_type=EventType.EMAIL_COMPLAINED,
        payload={**payload, "feedback_type": feedback_type},
        suppress_reason=suppression_list.COMPLAINT,
        suppress_detail=f"feedback-type {feedback_type}",
    )


async def apply_effect(
    connection: AsyncConnection,
    effect: ReportEffect,
    *,
    account_id: str | None,
    now: datetime,
    make_id: Callable[[], str],
    extra: Mapping[str, Any],
) -> list[dict[str, Any]] | None:
    """Apply one effect in the caller's transaction: the late status (where allowed), the
    suppression; returns its outbox rows to insert (none without an account), or None when
    the effect does not apply (recipient gone, status move refused)."""
    row = (
        await connection.execute(
            sa.select(recipients.c.status, recipients.c.message_id).where(
                recipients.c.id == effect.recipient_id
            )
        )
    ).first()
    if row is None:
        return None
    if effect.new_status is not None:
        if not can_transition_late(RecipientStatus(row.status), effect.new_status):
            return None
        await connection.execute(
            sa.update(recipients)
            .where(recipients.c.id == effect.recipient_id)
            .values(
                status=effect.new_status.value,
                bounce_class=effect.bounce_class,
                last_reply_code=effect.reply_code,
                last_enhanced_code=effect.enhanced_code,
                last_reply_text=effect.reply_text,
                next_attempt_at=None,
                updated_at=now,
            )
        )
    if account_id is None:
        return []
    if effect.suppress_reason is not None:
        await suppression_list.add(
            connection,
            account_id=account_id,
            address=effect.address,
            reason=effect.suppress_reason,
            source_message_id=row.message_id,
            now=now,
            detail=effect.suppress_detail,
        )
    return [
        event_row(
            make_id=make_id,
            now=now,
            account_id=account_id,
            type=effect.event_type,
            payload={**effect.payload, **extra},
            message_id=row.message_id,
            recipient_id=effect.recipient_id,
        )
    ]


@dataclass(frozen=True)
class NewReport:
    """A received report to keep: the envelope, what was read (``summary``) and its bytes."""

    mail_from: str
    rcpt_to: str
    peer: str | None
    kind: str
    shape: str
    summary: Mapping[str, Any]
    data: bytes
    account_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class StoredReport:
    """A kept report; ``applied`` lists the recipient ids its effects changed."""

    id: str
    received_at: datetime
    account_id: str | None
    message_id: str | None
    mail_from: str
    rcpt_to: str
    peer: str | None
    kind: str
    shape: str
    matched: int
    summary: Mapping[str, Any]
    size: int
    applied: tuple[str, ...] = field(default=())


def _stored(row: Any) -> StoredReport:
    return StoredReport(
        id=row.id,
        received_at=row.received_at,
        account_id=row.account_id,
        message_id=row.message_id,
        mail_from=row.mail_from,
        rcpt_to=row.rcpt_to,
        peer=row.peer,
        kind=row.kind,
        shape=row.shape,
        matched=row.matched,
        summary=row.summary,
        size=row.size,
    )


class SqlReports:
    """Received reports over :class:`Transactions`."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def message_for(self, message_id: str) -> ReturnPathMessage | None:
        """The message with this id and its recipients, or None."""
        async with self._tx.read() as connection:
            row = (
                await connection.execute(sa.select(messages).where(messages.c.id == message_id))
            ).first()
            if row is None:
                return None
            rows = await connection.execute(
                sa.select(recipients.c.id, recipients.c.address, recipients.c.status)
                .where(recipients.c.message_id == message_id)
                .order_by(recipients.c.id)
            )
            found = tuple(
                MessageRecipient(r.id, r.address, RecipientStatus(r.status)) for r in rows
            )
        return ReturnPathMessage(
            id=row.id,
            account_id=row.account_id,
            mail_from=row.mail_from,
            tags=tuple(row.tags),
            metadata=dict(row.metadata),
            recipients=found,
        )

    async def is_sender_domain(self, name: str) -> bool:
        """Whether any account has the sender domain ``name``."""
        async with self._tx.read() as connection:
            found = await connection.execute(
                sa.select(sender_domains.c.id).where(sender_domains.c.name == name).limit(1)
            )
            return found.first() is not None

    async def record(self, report: NewReport, effects: Sequence[ReportEffect]) -> StoredReport:
        """Keep ``report`` and apply ``effects`` in one commit; returns the row with the
        recipient ids whose effects applied."""
        now = self._tx.clock.now()
        report_id = REPORT_ID_PREFIX + self._tx.new_id()
        applied: list[str] = []
        async with self._tx.write() as connection:
            event_rows = []
            for effect in effects:
                event = await apply_effect(
                    connection,
                    effect,
                    account_id=report.account_id,
                    now=now,
                    make_id=self._tx.new_id,
                    extra={"report_id": report_id},
                )
                if event is None:
                    continue
                event_rows.extend(event)
                applied.append(effect.recipient_id)
            values = {
                "id": report_id,
                "received_at": now,
                "account_id": report.account_id,
                "message_id": report.message_id,
                "mail_from": report.mail_from[:320],
                "rcpt_to": report.rcpt_to[:320],
                "peer": report.peer,
                "kind": report.kind,
                "shape": report.shape,
                "matched": len(applied),
                "summary": {**report.summary, "applied": applied},
                "size": len(report.data),
                "head": report.data[:REPORT_HEAD_OCTETS],
            }
            await connection.execute(sa.insert(inbound_reports).values(values))
            await insert_events(connection, event_rows)
        return replace(_stored(_Row(values)), applied=tuple(applied))

    async def list(
        self,
        *,
        account_id: str | None,
        message_id: str | None = None,
        unmatched_only: bool = False,
        limit: int,
    ) -> list[StoredReport]:
        """Reports newest first: an account's (None: those that matched no account), of one
        message, or only those that changed nothing."""
        query = sa.select(inbound_reports).where(
            inbound_reports.c.account_id == account_id
            if account_id is not None
            else inbound_reports.c.account_id.is_(None)
        )
        if message_id is not None:
            query = query.where(inbound_reports.c.message_id == message_id)
        if unmatched_only:
            query = query.where(inbound_reports.c.matched == 0)
        async with self._tx.read() as connection:
            newest_first = (inbound_reports.c.received_at.desc(), inbound_reports.c.id.desc())
            rows = await connection.execute(query.order_by(*newest_first).limit(limit))
            return [_stored(row) for row in rows]

    async def head(self, report_id: str, *, account_id: str | None) -> bytes | None:
        """The kept head of a report of this account (None: unmatched ones), or None."""
        owner = (
            inbound_reports.c.account_id == account_id
            if account_id is not None
            else inbound_reports.c.account_id.is_(None)
        )
        async with self._tx.read() as connection:
            found = await connection.execute(
                sa.select(inbound_reports.c.head).where(inbound_reports.c.id == report_id, owner)
            )
            value = found.scalar()
        return bytes(value) if value is not None else None


class _Row:
    """Attribute access over the inserted values (so :func:`_stored` reads both)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)
