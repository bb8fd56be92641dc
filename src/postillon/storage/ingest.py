"""Enqueue: messages, their tags and recipients and their first events, in one transaction.

Owns what "accepted" writes. The caller's transaction commits it; only then may the API answer 202
or the submission server 250 (docs/contracts.md, "Durability"). Recipients the account has
suppressed are stored SUPPRESSED with an ``email.suppressed`` event and are never claimed. Rows of a
whole batch go in one multi-row INSERT per table: each statement is a round trip to the database
thread (or server), and a batch of 100 messages must not cost 500 of them. It must not open its own
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.status import RecipientStatus, event_type_for
from postillon.storage import suppression_list
from postillon.storage.errors import StorageError
from postillon.storage.notify import notify_queued
from postillon.storage.outbox import event_row, insert_events
from postillon.storage.records import EnqueuedRecipient, EnqueueResult, NewMessage
from postillon.storage.schema import accounts, message_tags, messages, recipients

SUPPRESSED_REASON = "address on the account's suppression list"


class _Rows:
    """The rows of one batch, per table, in insertion order."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.tags: list[dict[str, Any]] = []
        self.recipients: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []


def _unique_addresses(message: NewMessage) -> dict[str, str]:
    # One recipient per address (case-insensitive): the same mailbox twice gets one copy.
    unique: dict[str, str] = {}
    for recipient in message.recipients:
        unique.setdefault(suppression_list.address_key(recipient.address), recipient.address)
    return unique


async def _check_accounts(connection: AsyncConnection, batch: Sequence[NewMessage]) -> None:
    wanted = {message.account_id for message in batch}
    found = set(
        (
            await connection.execute(sa.select(accounts.c.id).where(accounts.c.id.in_(wanted)))
        ).scalars()
    )
    for account_id in sorted(wanted - found):
        raise StorageError(f"no account {account_id!r}")


def _add_message(
    rows: _Rows,
    message: NewMessage,
    *,
    unique: dict[str, str],
    suppressed: set[str],
    now: datetime,
    make_id: Callable[[], str],
) -> EnqueueResult:
    message_id = make_id()
    tags = list(dict.fromkeys(message.tags))
    metadata = dict(message.metadata)
    rows.messages.append(
        {
            "id": message_id,
            "account_id": message.account_id,
            "mail_from": message.mail_from,
            "body": message.body,
            "size": len(message.body),
            "subject": message.subject,
            "header_message_id": message.header_message_id,
            "from_header": message.from_header,
            "tags": tags,
            "metadata": metadata,
            "created_at": now,
            "scheduled_at": message.scheduled_at,
            "stream": message.stream.value,
            "source": message.source,
            "api_key_prefix": message.api_key_prefix,
        }
    )
    rows.tags.extend({"message_id": message_id, "tag": tag} for tag in tags)
    first_due = message.scheduled_at or now
    stored: list[EnqueuedRecipient] = []
    for key, address in unique.items():
        is_suppressed = key in suppressed
        status = RecipientStatus.SUPPRESSED if is_suppressed else RecipientStatus.QUEUED
        recipient_id = make_id()
        stored.append(EnqueuedRecipient(id=recipient_id, address=address, status=status))
        rows.recipients.append(
            {
                "id": recipient_id,
                "message_id": message_id,
                "address": address,
                "domain": address.rpartition("@")[2].lower(),
                "status": status.value,
                "attempts": 0,
                "next_attempt_at": None if is_suppressed else first_due,
                "lease_owner": None,
                "lease_until": None,
                "last_reply_code": None,
                "last_enhanced_code": None,
                "last_reply_text": SUPPRESSED_REASON if is_suppressed else None,
                "bounce_class": None,
                "possible_duplicate": False,
                "updated_at": now,
                "account_id": message.account_id,
                "stream_rank": message.stream.rank,
            }
        )
        payload: dict[str, Any] = {
            "message_id": message_id,
            "recipient": address,
            "recipient_id": recipient_id,
            "tags": tags,
        }
        payload["source"] = message.source
        if message.api_key_prefix is not None:
            payload["api_key_prefix"] = message.api_key_prefix
        if is_suppressed:
            payload["reason"] = SUPPRESSED_REASON
        if message.scheduled_at is not None:
            payload["scheduled_at"] = message.scheduled_at.isoformat()
        rows.events.append(
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
    return EnqueueResult(message_id=message_id, created_at=now, recipients=tuple(stored))


async def enqueue_many(
    connection: AsyncConnection,
    batch: Sequence[NewMessage],
    *,
    now: datetime,
    make_id: Callable[[], str],
) -> list[EnqueueResult]:
    """Insert the messages and their recipients, in order. Raises StorageError (permanent) if
    an account does not exist or a message has no recipient; then nothing is written."""
    if any(not message.recipients for message in batch):
        raise StorageError("a message needs at least one recipient")
    if not batch:
        return []
    await _check_accounts(connection, batch)
    uniques = [_unique_addresses(message) for message in batch]
    by_account: dict[str, set[str]] = {}
    for message, unique in zip(batch, uniques, strict=True):
        by_account.setdefault(message.account_id, set()).update(unique)
    suppressed = {
        account_id: await suppression_list.listed_among(connection, account_id, addresses)
        for account_id, addresses in by_account.items()
    }
    rows = _Rows()
    results = [
        _add_message(
            rows,
            message,
            unique=unique,
            suppressed=suppressed[message.account_id],
            now=now,
            make_id=make_id,
        )
        for message, unique in zip(batch, uniques, strict=True)
    ]
    await connection.execute(sa.insert(messages), rows.messages)
    if rows.tags:
        await connection.execute(sa.insert(message_tags), rows.tags)
    await connection.execute(sa.insert(recipients), rows.recipients)
    await insert_events(connection, rows.events)
    await notify_queued(connection)  # idle nodes wake at our commit (PostgreSQL)
    return results
