"""Enqueue: a message, its tags and recipients and their first events, in one transaction.

Owns what "accepted" writes. The caller's transaction commits it; only then may the API answer
202 or the submission server 250 (DESIGN.md, durability). Recipients the account has suppressed
are stored SUPPRESSED with an ``email.suppressed`` event and are never claimed.
It must not open its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.status import RecipientStatus, event_type_for
from postillon.storage import suppression_list
from postillon.storage.errors import StorageError
from postillon.storage.outbox import event_row, insert_events
from postillon.storage.records import EnqueuedRecipient, EnqueueResult, NewMessage
from postillon.storage.schema import accounts, message_tags, messages, recipients

SUPPRESSED_REASON = "address on the account's suppression list"


async def enqueue(
    connection: AsyncConnection,
    message: NewMessage,
    *,
    now: datetime,
    make_id: Callable[[], str],
) -> EnqueueResult:
    """Insert the message and its recipients. Raises StorageError (permanent) if the account
    does not exist or there is no recipient."""
    if not message.recipients:
        raise StorageError("a message needs at least one recipient")
    account = await connection.execute(
        sa.select(accounts.c.id).where(accounts.c.id == message.account_id)
    )
    if account.first() is None:
        raise StorageError(f"no account {message.account_id!r}")

    # One recipient per address (case-insensitive): the same mailbox twice gets one copy.
    unique: dict[str, str] = {}
    for recipient in message.recipients:
        unique.setdefault(suppression_list.address_key(recipient.address), recipient.address)
    suppressed = await suppression_list.listed_among(connection, message.account_id, unique)

    message_id = make_id()
    tags = list(dict.fromkeys(message.tags))
    await connection.execute(
        sa.insert(messages).values(
            id=message_id,
            account_id=message.account_id,
            mail_from=message.mail_from,
            body=message.body,
            size=len(message.body),
            subject=message.subject,
            header_message_id=message.header_message_id,
            from_header=message.from_header,
            tags=tags,
            metadata=dict(message.metadata),
            created_at=now,
            scheduled_at=message.scheduled_at,
        )
    )
    if tags:
        await connection.execute(
            sa.insert(message_tags), [{"message_id": message_id, "tag": tag} for tag in tags]
        )

    first_due = message.scheduled_at or now
    stored: list[EnqueuedRecipient] = []
    recipient_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for key, address in unique.items():
        status = RecipientStatus.SUPPRESSED if key in suppressed else RecipientStatus.QUEUED
        recipient_id = make_id()
        stored.append(EnqueuedRecipient(id=recipient_id, address=address, status=status))
        recipient_rows.append(
            {
                "id": recipient_id,
                "message_id": message_id,
                "address": address,
                "domain": address.rpartition("@")[2].lower(),
                "status": status.value,
                "attempts": 0,
                "next_attempt_at": first_due if status is RecipientStatus.QUEUED else None,
                "lease_owner": None,
                "lease_until": None,
                "last_reply_code": None,
                "last_enhanced_code": None,
                "last_reply_text": SUPPRESSED_REASON if key in suppressed else None,
                "bounce_class": None,
                "possible_duplicate": False,
                "updated_at": now,
            }
        )
        payload: dict[str, Any] = {
            "message_id": message_id,
            "recipient": address,
            "recipient_id": recipient_id,
            "tags": tags,
            "metadata": dict(message.metadata),
        }
        if status is RecipientStatus.SUPPRESSED:
            payload["reason"] = SUPPRESSED_REASON
        if message.scheduled_at is not None:
            payload["scheduled_at"] = message.scheduled_at.isoformat()
        event_rows.append(
            event_row(
                make_id=make_id,
                now=now,
                account_id=message.account_id,
                type=event_type_for(status),
                payload=payload,
                message_id=message_id,
                recipient_id=recipient_id,
            )
        )
    await connection.execute(sa.insert(recipients), recipient_rows)
    await insert_events(connection, event_rows)
    return EnqueueResult(message_id=message_id, created_at=now, recipients=tuple(stored))
