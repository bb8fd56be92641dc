"""Ingest in groups (storage/ingest_groups.py through SqlIngest) on a real database: many
concurrent requests share a few writer units, a request that breaks its group fails alone, and
two requests with one idempotency key never share a group (the second replays the first)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from postillon.clock import FakeClock
from postillon.storage import SqlStore
from postillon.storage.errors import StorageError
from postillon.storage.idempotency_sql import IdempotencyKey, IngestOutcome, SqlIngest
from postillon.storage.records import EnqueueResult, NewMessage
from postillon.storage.transactions import Transactions
from tests.integration.storage.builders import message

pytestmark = pytest.mark.timeout(60)

REQUESTS = 50


def respond(results: Sequence[EnqueueResult]) -> dict[str, Any]:
    return {"ids": [r.message_id for r in results]}


async def send(
    ingest: SqlIngest, batch: Sequence[NewMessage], key: IdempotencyKey | None = None
) -> IngestOutcome:
    return await ingest.enqueue(
        batch, mail_from=lambda i, mid: f"bounces+{mid}@b.test", idempotency=key, respond=respond
    )


def key_of(account_id: str, clock: FakeClock, key: str) -> IdempotencyKey:
    return IdempotencyKey(account_id, key, "fp", clock.now() - timedelta(hours=24))


async def test_concurrent_requests_share_units_and_one_bad_request_fails_alone(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    ingest = SqlIngest(Transactions(store.engines, clock))
    writes = store.engines.writes
    units_before = writes.units
    bad = message("no-such-account", "x@example.test")

    outcomes = await asyncio.gather(
        *(send(ingest, [message(account.id, f"r{i}@example.test")]) for i in range(REQUESTS)),
        send(ingest, [bad]),
        return_exceptions=True,
    )

    *good, failed = outcomes
    assert isinstance(failed, StorageError)
    for outcome in good:
        assert isinstance(outcome, IngestOutcome)
        [message_id] = outcome.response["ids"]
        view = await store.get_message(message_id)
        assert view is not None
        assert view.mail_from == f"bounces+{message_id}@b.test"
    # They waited together, their group broke on the bad one, and each was then stored alone:
    # every good one stored once, the bad one failed by itself.
    assert len({o.response["ids"][0] for o in good if isinstance(o, IngestOutcome)}) == REQUESTS
    assert writes.units - units_before == REQUESTS


async def test_good_requests_are_stored_in_a_few_units(store: SqlStore, clock: FakeClock) -> None:
    account = await store.ensure_account("acme")
    ingest = SqlIngest(Transactions(store.engines, clock))
    writes = store.engines.writes
    units_before = writes.units

    await asyncio.gather(
        *(send(ingest, [message(account.id, f"r{i}@example.test")]) for i in range(REQUESTS))
    )

    assert writes.units - units_before <= 2  # they queued together: one group, or two


async def test_one_key_twice_at_once_stores_one_message(store: SqlStore, clock: FakeClock) -> None:
    account = await store.ensure_account("acme")
    ingest = SqlIngest(Transactions(store.engines, clock))
    key = key_of(account.id, clock, "order-7")

    first, second, third = await asyncio.gather(
        send(ingest, [message(account.id, "a@example.test")]),
        send(ingest, [message(account.id, "b@example.test")], key),
        send(ingest, [message(account.id, "b@example.test")], key),
    )

    assert first.replay is None
    assert second.replay is None
    assert third.replay is not None
    assert third.response == second.response
