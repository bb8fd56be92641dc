"""One-click unsubscribes, stored: the suppression and its event in one commit.

Owns applying an unsubscribe: the address joins the account's suppression list with reason
``unsubscribe`` (source: the message with that Message-ID, when the account still has it), and
``email.unsubscribed`` goes to the outbox, only when the address was not listed already (a
mailbox provider may POST twice). It must not check tokens (services/ does).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from postillon.events import EventType
from postillon.storage import suppression_list
from postillon.storage.outbox import event_row, insert_events
from postillon.storage.schema import messages
from postillon.storage.transactions import Transactions


@dataclass(frozen=True)
class Unsubscribed:
    """The outcome: whether the address was newly listed, and the message it came from."""

    added: bool
    message_id: str | None


class SqlUnsubscribes:
    """Unsubscribes over :class:`Transactions`."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def unsubscribe(
        self, *, account_id: str, address: str, header_message_id: str
    ) -> Unsubscribed:
        """Suppress ``address`` for ``account_id`` (reason ``unsubscribe``) and announce it."""
        now = self._tx.clock.now()
        async with self._tx.write() as connection:
            found = await connection.execute(
                sa.select(messages.c.id, messages.c.tags, messages.c.metadata)
                .where(
                    messages.c.account_id == account_id,
                    messages.c.header_message_id == header_message_id,
                )
                .limit(1)
            )
            message = found.first()
            message_id = message.id if message is not None else None
            added = await suppression_list.add(
                connection,
                account_id=account_id,
                address=address,
                reason=suppression_list.UNSUBSCRIBE,
                source_message_id=message_id,
                now=now,
                detail="one-click (RFC 8058)",
            )
            if added:
                payload = {
                    "message_id": message_id,
                    "recipient": suppression_list.address_key(address),
                    "header_message_id": header_message_id,
                    "tags": list(message.tags) if message is not None else [],
                    "metadata": dict(message.metadata) if message is not None else {},
                }
                row = event_row(
                    make_id=self._tx.new_id,
                    now=now,
                    account_id=account_id,
                    type=EventType.EMAIL_UNSUBSCRIBED,
                    payload=payload,
                    message_id=message_id,
                )
                await insert_events(connection, [row])
        return Unsubscribed(added=added, message_id=message_id)
