"""The suppression list read a page at a time, for the dashboard: newest first, searched by
address, with opaque cursors.

Owns :class:`SqlSuppressions` (the transactions around :func:`suppression_list.page_for`) and
the cursor's form: the created time and address of a page's last row, base64url-encoded, so
rows added while someone pages never shift a page. Adding and removing stay the Store's
(``suppress`` / ``unsuppress``). It must not validate addresses (the service does).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from postillon.storage import suppression_list
from postillon.storage.errors import StorageError
from postillon.storage.records import Suppression
from postillon.storage.schema import ADDRESS_LENGTH
from postillon.storage.transactions import Transactions

# A cursor is a time (32 characters at most) and an address: anything longer is not ours.
MAX_CURSOR_CHARS = 2 * (32 + 1 + 4 * ADDRESS_LENGTH)


@dataclass(frozen=True)
class ListedSuppression:
    """A suppressed address; ``source_subject`` is the subject of the message whose bounce
    listed it, None when there is none or it was deleted since."""

    suppression: Suppression
    source_subject: str | None

    @property
    def has_source(self) -> bool:
        """True when the source message can still be opened."""
        return self.source_subject is not None


@dataclass(frozen=True)
class SuppressionPage:
    """One page of the list, newest first; ``next_cursor`` is None on the last page."""

    items: tuple[ListedSuppression, ...]
    next_cursor: str | None


def encode_cursor(created_at: datetime, address: str) -> str:
    """The cursor that continues after the row (``created_at``, ``address``)."""
    text = f"{created_at.isoformat()} {address}"
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created time, address) a cursor names. Raises StorageError when malformed."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, _, address = base64.urlsafe_b64decode(padded).decode().partition(" ")
        created_at = datetime.fromisoformat(moment)
    except (ValueError, binascii.Error) as error:
        raise StorageError(f"malformed cursor {cursor[:40]!r}") from error
    # PostgreSQL text cannot hold NUL (the query would fail): no address we store has a control
    # character, so a cursor naming one is not ours.
    if created_at.tzinfo is None or not address or any(ord(c) < 0x20 for c in address):
        raise StorageError(f"malformed cursor {cursor[:40]!r}")
    return created_at, address


class SqlSuppressions:
    """Paged reads of the ``suppressions`` table."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def page(
        self, account_id: str, *, search: str | None, limit: int, cursor: str | None
    ) -> SuppressionPage:
        """Up to ``limit`` of the account's suppressions after ``cursor`` (None: the newest),
        whose address contains ``search`` (any case). Raises StorageError for a bad cursor."""
        after = decode_cursor(cursor) if cursor else None
        async with self._tx.read() as connection:
            rows = await suppression_list.page_for(
                connection, account_id, search=search, after=after, limit=limit + 1
            )
        items = tuple(ListedSuppression(row, subject) for row, subject in rows[:limit])
        more = len(rows) > limit
        last = items[-1].suppression if items else None
        next_cursor = encode_cursor(last.created_at, last.address) if more and last else None
        return SuppressionPage(items=items, next_cursor=next_cursor)
