"""The Store protocol: every operation the engine, the API, the webhooks and the CLI need.

Owns the contract, not the SQL (see :mod:`.sql_store`). Every write is one transaction and
returns only after its commit: the 202 of the API and the 250 of the submission server rest on
:meth:`Store.enqueue` having returned. Claims lease recipients to an owner until a time; a lease
that runs out makes them due again, so whatever a crashed node held is retried.
It must not decide outcomes or schedules (queue/ does) nor do network I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from postillon.queue.status import RecipientStatus
from postillon.storage.records import (
    Account,
    CancelResult,
    ClaimedJob,
    EnqueueResult,
    MessageFilter,
    MessageView,
    NewMessage,
    OutboxEvent,
    Page,
    RecipientOutcome,
    RecipientView,
    RecordResult,
    Suppression,
)


class Store(Protocol):
    """Durable queue, attempt log, event outbox and suppression list."""

    async def migrate(self) -> None:
        """Bring the schema to the latest revision (idempotent; run at startup)."""
        ...

    async def close(self) -> None:
        """Close every connection."""
        ...

    # Accounts -----------------------------------------------------------------------------

    async def ensure_account(self, name: str) -> Account:
        """The account named ``name``, created if it does not exist."""
        ...

    async def get_account(self, account_id: str) -> Account | None:
        """The account with this id, or None."""
        ...

    # Ingest -------------------------------------------------------------------------------

    async def enqueue(self, message: NewMessage) -> EnqueueResult:
        """Store a message and its recipients in one transaction; return after the commit.

        Recipients on the account's suppression list are stored as SUPPRESSED (never tried)
        with an ``email.suppressed`` event; the others as QUEUED with an ``email.queued``
        event, due at ``scheduled_at`` or now. Raises StorageError (permanent) if the account
        does not exist or the message has no recipients.
        """
        ...

    async def enqueue_many(self, messages: Sequence[NewMessage]) -> list[EnqueueResult]:
        """Store several messages in one transaction (all or none), one commit for all.

        For batch sends and for grouping concurrent submissions into one disk sync; results
        in the order given. Raises like :meth:`enqueue`.
        """
        ...

    # Delivery -----------------------------------------------------------------------------

    async def claim_due(
        self, owner: str, now: datetime, lease_s: float, limit: int
    ) -> list[ClaimedJob]:
        """Lease up to ``limit`` due recipients to ``owner`` until ``now + lease_s``.

        Due: QUEUED or DEFERRED, ``next_attempt_at <= now``, and no lease or an expired one.
        Oldest due first; grouped into one job per (message, domain). Two owners never hold
        the same recipient at once. Short transaction; no lock is held after it returns.
        """
        ...

    async def renew_lease(
        self, owner: str, recipient_ids: Sequence[str], now: datetime, lease_s: float
    ) -> int:
        """Extend the leases ``owner`` still holds to ``now + lease_s``; returns how many."""
        ...

    async def release_lease(self, owner: str, recipient_ids: Sequence[str]) -> int:
        """Give back leases not used (graceful drain): due again at once; returns how many."""
        ...

    async def record_outcomes(
        self, owner: str, outcomes: Sequence[RecipientOutcome]
    ) -> RecordResult:
        """Write attempt rows, statuses, events and suppressions of a batch in one commit.

        A status moves only where queue.status allows it (a recipient already final keeps its
        status; its attempt row is still written). ``owner``'s leases are released. If another
        owner holds the lease now (ours ran out), only a final status is applied.
        """
        ...

    # Reads --------------------------------------------------------------------------------

    async def get_message(
        self, message_id: str, *, account_id: str | None = None, with_body: bool = False
    ) -> MessageView | None:
        """A message with its recipients and their attempts; None if absent (or not the
        account's, when ``account_id`` is given)."""
        ...

    async def list_messages(
        self, filters: MessageFilter, *, limit: int, cursor: str | None = None
    ) -> Page:
        """Messages matching ``filters``, newest first, with their recipients (no attempts).

        Raises StorageError (permanent) for a malformed cursor.
        """
        ...

    # Operators (CLI) ---------------------------------------------------------------------

    async def list_queue(
        self, *, limit: int, status: RecipientStatus | None = None, domain: str | None = None
    ) -> list[RecipientView]:
        """Recipients still waiting (QUEUED/DEFERRED, or only ``status``), soonest due first."""
        ...

    async def retry_now(
        self, message_id: str | None = None, *, account_id: str | None = None
    ) -> int:
        """Make waiting recipients due now (of one message, or all; only ``account_id``'s
        when given); returns how many."""
        ...

    async def delete_message(self, message_id: str) -> bool:
        """Delete a message, its recipients and attempts; False if it did not exist."""
        ...

    async def cancel(
        self, message_id: str, now: datetime, *, account_id: str | None = None
    ) -> CancelResult | None:
        """Cancel the message's waiting recipients in one transaction, keeping its history.

        QUEUED/DEFERRED recipients without a live lease (at ``now``) become CANCELLED, with an
        ``email.cancelled`` event each; leased ones are being delivered and are left alone.
        Returns the counts, or None for no such message (or not ``account_id``'s).
        """
        ...

    # Suppressions ------------------------------------------------------------------------

    async def suppress(
        self, account_id: str, address: str, reason: str, source_message_id: str | None = None
    ) -> bool:
        """Add an address to the account's list; False if it was there already."""
        ...

    async def unsuppress(self, account_id: str, address: str) -> bool:
        """Remove an address from the account's list; False if it was not there."""
        ...

    async def list_suppressions(self, account_id: str, *, limit: int) -> list[Suppression]:
        """The account's suppressed addresses, newest first."""
        ...

    # Event outbox -------------------------------------------------------------------------

    async def claim_events(
        self, owner: str, now: datetime, lease_s: float, limit: int
    ) -> list[OutboxEvent]:
        """Lease undispatched events to ``owner`` (oldest first), so one node sends each."""
        ...

    async def mark_dispatched(self, event_ids: Sequence[str]) -> int:
        """Mark events handed to the webhook dispatcher; returns how many changed."""
        ...

    async def list_events(
        self,
        *,
        account_id: str | None = None,
        message_id: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[OutboxEvent]:
        """Events in causal order (``seq``) after ``after_seq``, dispatched or not."""
        ...
