"""Recording outcomes: attempt rows, statuses, events and suppressions, in the caller's commit.

Owns how a batch of decisions lands: every attempt is logged (even a late one for a recipient
that is final already: it happened); a status moves only where queue.status allows, so a stale
answer from a worker whose lease ran out cannot undo a delivery; each status change writes its
``email.<status>`` event; a hard bounce that says the address is dead suppresses it; the
sandbox's complaint after delivery is applied as a received complaint is (storage.reports_sql).
It must not decide outcomes (queue/ does) nor open its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.status import RecipientStatus, can_transition, event_type_for
from postillon.storage import suppression_list
from postillon.storage.outbox import event_row, insert_events
from postillon.storage.records import (
    AttemptRecord,
    RecipientOutcome,
    RecordResult,
    TlsRptSession,
)
from postillon.storage.reports_sql import apply_effect, complaint_effect
from postillon.storage.schema import attempts, messages, recipients
from postillon.storage.tlsrpt_sql import count_sessions

# The feedback type (RFC 5965 §7.3) of the sandbox's simulated complaint: a person's report.
SANDBOX_FEEDBACK_TYPE = "abuse"
# Recipient columns an outcome may change.
_MUTABLE = (
    "status",
    "attempts",
    "next_attempt_at",
    "lease_owner",
    "lease_until",
    "last_reply_code",
    "last_enhanced_code",
    "last_reply_text",
    "bounce_class",
    "possible_duplicate",
    "updated_at",
)

# Bound names must differ from column names in an UPDATE's SET clause.
_UPDATE = (
    sa.update(recipients)
    .where(recipients.c.id == sa.bindparam("b_id"))
    .values({name: sa.bindparam(f"b_{name}") for name in _MUTABLE})
)


def _bound(values: dict[str, Any]) -> dict[str, Any]:
    return {f"b_{name}": value for name, value in values.items()}


def _attempt_row(recipient_id: str, record: AttemptRecord) -> dict[str, Any]:
    return {
        "recipient_id": recipient_id,
        "started_at": record.started_at,
        "duration_ms": record.duration_ms,
        "mx_host": record.mx_host,
        "ip": record.ip,
        "tls_used": record.tls_used,
        "tls_version": record.tls_version,
        "tls_cipher": record.tls_cipher,
        "tls_verified": record.tls_verified,
        "tls_reason": record.tls_reason,
        "mta_sts_mode": record.mta_sts_mode,
        "mta_sts_policy_id": record.mta_sts_policy_id,
        "reply_code": record.reply_code,
        "enhanced_code": record.enhanced_code,
        "reply_text": record.reply_text,
        "transcript": record.transcript,
        "tls_policy": record.tls_policy,
        "dane_tlsa": record.dane_tlsa,
        "tls_refusal": record.tls_refusal,
        "tls_result": record.tls_result,
    }


def _payload(row: Any, outcome: RecipientOutcome, attempt_number: int) -> dict[str, Any]:
    record = outcome.attempt
    payload: dict[str, Any] = {
        "message_id": row.message_id,
        "recipient": row.address,
        "recipient_id": row.id,
        "attempt": attempt_number,
        "tags": row.tags,
        "bounce_class": outcome.bounce_class.value if outcome.bounce_class else None,
        "possible_duplicate": outcome.possible_duplicate or row.possible_duplicate,
        "source": row.source,
    }
    if row.api_key_prefix is not None:
        payload["api_key_prefix"] = row.api_key_prefix
    if outcome.next_attempt_at is not None:
        payload["next_attempt_at"] = outcome.next_attempt_at.isoformat()
    if record is not None:
        payload.update(
            mx_host=record.mx_host,
            ip=record.ip,
            reply={
                "code": record.reply_code,
                "enhanced_code": record.enhanced_code,
                "text": record.reply_text,
            },
            tls={
                "used": record.tls_used,
                "version": record.tls_version,
                "cipher": record.tls_cipher,
                "verified": record.tls_verified,
                "reason": record.tls_reason,
                "policy": record.tls_policy,
                "dane_tlsa": record.dane_tlsa,
                "refusal": record.tls_refusal,
                "result": record.tls_result,
            },
            mta_sts_mode=record.mta_sts_mode,
        )
    return payload


async def record_outcomes(
    connection: AsyncConnection,
    owner: str,
    outcomes: Sequence[RecipientOutcome],
    *,
    now: datetime,
    make_id: Callable[[], str],
) -> RecordResult:
    """Apply a batch. Raises ValueError for a DEFERRED outcome without ``next_attempt_at``."""
    for outcome in outcomes:
        if outcome.status is RecipientStatus.DEFERRED and outcome.next_attempt_at is None:
            raise ValueError(f"deferred recipient {outcome.recipient_id} needs next_attempt_at")
    if not outcomes:
        return RecordResult(applied=(), ignored=())
    ids = sorted({outcome.recipient_id for outcome in outcomes})
    current = {
        row.id: row
        for row in await connection.execute(
            sa.select(
                recipients,
                messages.c.account_id,
                messages.c.tags,
                messages.c.source,
                messages.c.api_key_prefix,
            )
            .join(messages, messages.c.id == recipients.c.message_id)
            .where(recipients.c.id.in_(ids))
        )
    }
    # The recipient columns this batch may change, per row, starting from what is stored; one
    # executemany UPDATE writes them all at the end (a statement per row costs a round trip each).
    state: dict[str, dict[str, Any]] = {
        row_id: {name: getattr(row, name) for name in _MUTABLE} for row_id, row in current.items()
    }
    attempt_rows: list[dict[str, Any]] = []
    sessions: list[TlsRptSession] = []
    event_rows: list[dict[str, Any]] = []
    applied: list[str] = []
    ignored: list[str] = []
    for outcome in outcomes:
        row = current.get(outcome.recipient_id)
        if row is None:  # deleted while in flight
            ignored.append(outcome.recipient_id)
            continue
        values = state[row.id]
        values["updated_at"] = now
        if outcome.attempt is not None:
            values["attempts"] += 1
            attempt_rows.append(_attempt_row(row.id, outcome.attempt))
            sessions.extend(outcome.tlsrpt)
        # Our lease ran out and another worker claimed the recipient: our news changes the
        # status only if it is final (the mail did arrive or bounce); a deferral would undo the
        # other worker's lease and let a third one send in parallel.
        held_by_other = values["lease_owner"] not in (None, owner)
        if values["lease_owner"] == owner:
            values.update(lease_owner=None, lease_until=None)
        allowed = can_transition(RecipientStatus(values["status"]), outcome.status)
        if not allowed or (held_by_other and not outcome.status.is_final):
            ignored.append(row.id)
            continue
        values.update(
            status=outcome.status.value,
            next_attempt_at=outcome.next_attempt_at,
            bounce_class=outcome.bounce_class.value if outcome.bounce_class else None,
            possible_duplicate=outcome.possible_duplicate or values["possible_duplicate"],
        )
        if outcome.attempt is not None:
            values.update(
                last_reply_code=outcome.attempt.reply_code,
                last_enhanced_code=outcome.attempt.enhanced_code,
                last_reply_text=outcome.attempt.reply_text,
            )
        event_rows.append(
            event_row(
                make_id=make_id,
                now=now,
                account_id=row.account_id,
                type=event_type_for(outcome.status),
                payload=_payload(row, outcome, values["attempts"]),
                message_id=row.message_id,
                recipient_id=row.id,
            )
        )
        if outcome.complained:  # the sandbox's complained@: what an ARF complaint does
            complained = await apply_effect(
                connection,
                complaint_effect(
                    recipient_id=row.id,
                    address=row.address,
                    payload=_payload(row, outcome, values["attempts"]),
                    feedback_type=SANDBOX_FEEDBACK_TYPE,
                ),
                account_id=row.account_id,
                now=now,
                make_id=make_id,
                extra={},
            )
            event_rows.extend(complained or [])
        if outcome.suppress and outcome.status is RecipientStatus.BOUNCED:
            await suppression_list.add(
                connection,
                account_id=row.account_id,
                address=row.address,
                reason=suppression_list.BOUNCE,
                source_message_id=row.message_id,
                now=now,
                detail=outcome.attempt.reply_text if outcome.attempt else None,
            )
        applied.append(row.id)
    touched = {outcome.recipient_id for outcome in outcomes} & state.keys()
    if touched:
        await connection.execute(
            _UPDATE, [{"b_id": row_id, **_bound(state[row_id])} for row_id in sorted(touched)]
        )
    if attempt_rows:
        await connection.execute(sa.insert(attempts), attempt_rows)
    await count_sessions(connection, sessions, owner)
    await insert_events(connection, event_rows)
    return RecordResult(applied=tuple(applied), ignored=tuple(ignored))
