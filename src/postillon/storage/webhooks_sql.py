"""Webhook endpoints in the database: register, read, change, rotate, delete.

Owns the ``webhook_endpoints`` queries, always scoped to an account (one customer never reads or
changes another's endpoint). A rotation is one UPDATE that moves the current sealed secret to the
previous slot (both databases evaluate SET expressions against the old row), so two concurrent
rotations cannot lose a secret that is still signing.
It must not seal or open secrets, vet URLs or parse filters (webhooks/ does).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.storage.schema import accounts, webhook_deliveries, webhook_endpoints
from postillon.storage.transactions import Transactions
from postillon.storage.webhook_records import (
    DeliveryState,
    EndpointChanges,
    EndpointRecord,
    endpoint_from_row,
)

# Listing bound: far above the per-account cap the service enforces on creation (20), so a
# listing always shows every endpoint that receives events.
MAX_ENDPOINTS_LISTED = 500
DISABLED_BY_REQUEST = "disabled by request"

_T = webhook_endpoints


def _scoped(account_id: str, endpoint_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(_T.c.account_id == account_id, _T.c.id == endpoint_id)


class SqlWebhookEndpoints:
    """The endpoint table on the node's database."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def new_id(self) -> str:
        """A new endpoint id (``ep_`` + sortable id), known before the secret is sealed."""
        return "ep_" + self._tx.new_id()

    async def create(self, endpoint: EndpointRecord, *, max_per_account: int) -> bool:
        """Insert ``endpoint`` unless its account has ``max_per_account`` endpoints already
        (then False). Counted in the inserting transaction, the account's row locked on
        PostgreSQL, so concurrent creations cannot pass the cap. Raises StorageError subclasses
        only for database failures."""
        values = {
            "id": endpoint.id,
            "account_id": endpoint.account_id,
            "url": endpoint.url,
            "event_filter": endpoint.event_filter,
            "enabled": endpoint.enabled,
            "disabled_reason": endpoint.disabled_reason,
            "sealed_secret": endpoint.sealed_secret,
            "sealed_previous_secret": endpoint.sealed_previous_secret,
            "previous_until": endpoint.previous_until,
            "failing_since": endpoint.failing_since,
            "consecutive_failures": endpoint.consecutive_failures,
            "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at,
        }
        async with self._tx.write() as connection:
            await connection.execute(
                sa.select(accounts.c.id)
                .where(accounts.c.id == endpoint.account_id)
                .with_for_update()
            )
            count = (
                await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(_T)
                    .where(_T.c.account_id == endpoint.account_id)
                )
            ).scalar_one()
            if count >= max_per_account:
                return False
            await connection.execute(sa.insert(_T).values(values))
        return True

    async def get(self, account_id: str, endpoint_id: str) -> EndpointRecord | None:
        """The account's endpoint, or None."""
        async with self._tx.read() as connection:
            row = (
                await connection.execute(sa.select(_T).where(_scoped(account_id, endpoint_id)))
            ).first()
        return None if row is None else endpoint_from_row(row)

    async def list(self, account_id: str) -> list[EndpointRecord]:
        """The account's endpoints, oldest first (at most :data:`MAX_ENDPOINTS_LISTED`)."""
        async with self._tx.read() as connection:
            rows = await connection.execute(
                sa.select(_T)
                .where(_T.c.account_id == account_id)
                .order_by(_T.c.id)
                .limit(MAX_ENDPOINTS_LISTED)
            )
            return [endpoint_from_row(row) for row in rows]

    async def update(
        self, account_id: str, endpoint_id: str, changes: EndpointChanges, now: datetime
    ) -> EndpointRecord | None:
        """Apply ``changes``; None if there is no such endpoint.

        Enabling clears the disable reason and the failure count (a fresh start); disabling
        records :data:`DISABLED_BY_REQUEST` and gives up the endpoint's pending deliveries.
        """
        values: dict[str, Any] = {"updated_at": now}
        if changes.url is not None:
            values["url"] = changes.url
        if changes.event_filter is not None:
            values["event_filter"] = changes.event_filter
        if changes.enabled is True:
            values.update(
                enabled=True, disabled_reason=None, failing_since=None, consecutive_failures=0
            )
        elif changes.enabled is False:
            values.update(enabled=False, disabled_reason=DISABLED_BY_REQUEST)
        async with self._tx.write() as connection:
            result = await connection.execute(
                sa.update(_T).where(_scoped(account_id, endpoint_id)).values(values)
            )
            if result.rowcount != 1:
                return None
            if changes.enabled is False:
                await give_up_pending(connection, endpoint_id, DISABLED_BY_REQUEST, now)
            row = (await connection.execute(sa.select(_T).where(_T.c.id == endpoint_id))).one()
        return endpoint_from_row(row)

    async def rotate(
        self,
        account_id: str,
        endpoint_id: str,
        sealed_secret: bytes,
        previous_until: datetime,
        now: datetime,
    ) -> bool:
        """Make ``sealed_secret`` current; the old current signs until ``previous_until``."""
        async with self._tx.write() as connection:
            result = await connection.execute(
                sa.update(_T)
                .where(_scoped(account_id, endpoint_id))
                .values(
                    sealed_previous_secret=_T.c.sealed_secret,
                    sealed_secret=sealed_secret,
                    previous_until=previous_until,
                    updated_at=now,
                )
            )
            return result.rowcount == 1

    async def delete(self, account_id: str, endpoint_id: str) -> bool:
        """Delete the endpoint, its delivery state and log; False if it did not exist."""
        async with self._tx.write() as connection:
            result = await connection.execute(sa.delete(_T).where(_scoped(account_id, endpoint_id)))
            return result.rowcount == 1


async def give_up_pending(
    connection: AsyncConnection, endpoint_id: str, reason: str, now: datetime
) -> None:
    """Mark the endpoint's pending deliveries failed with ``reason`` (in the caller's commit)."""
    await connection.execute(
        sa.update(webhook_deliveries)
        .where(
            webhook_deliveries.c.endpoint_id == endpoint_id,
            webhook_deliveries.c.state == DeliveryState.PENDING.value,
        )
        .values(
            state=DeliveryState.FAILED.value,
            lease_owner=None,
            lease_until=None,
            next_attempt_at=None,
            last_error=reason,
            updated_at=now,
        )
    )
