"""Enqueue: durable on commit, suppressed recipients recorded, events in the same commit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
import sqlalchemy as sa

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.storage import MessageFilter, SqlStore, StorageError, schema
from tests.integration.storage.builders import BODY, message
from tests.integration.storage.conftest import StoreFactory


async def test_a_second_store_on_the_same_file_sees_the_enqueued_message(
    open_store: StoreFactory,
) -> None:
    writer = await open_store()
    account = await writer.ensure_account("acme")
    result = await writer.enqueue(message(account.id, "a@example.test", "b@other.test"))

    reader = await open_store()
    view = await reader.get_message(result.message_id, with_body=True)

    assert view is not None
    assert view.body == BODY
    assert view.size == len(BODY)
    assert view.metadata == {"order": 42}
    assert sorted((r.address, r.domain, r.status) for r in view.recipients) == [
        ("a@example.test", "example.test", RecipientStatus.QUEUED),
        ("b@other.test", "other.test", RecipientStatus.QUEUED),
    ]


def test_enqueue_is_on_disk_when_it_returns_even_if_the_process_is_killed(db_url: str) -> None:
    # The child enqueues, prints the id, then SIGKILLs itself: no close, no flush, no atexit.
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from postillon.clock import SystemClock
        from postillon.storage import SqlStore, NewMessage, NewRecipient

        async def main():
            store = SqlStore.from_url({db_url!r}, SystemClock())
            await store.migrate()
            account = await store.ensure_account("acme")
            result = await store.enqueue(NewMessage(
                account_id=account.id, mail_from="s@sender.test",
                recipients=(NewRecipient("r@example.test"),), body=b"x\\r\\n"))
            print(result.message_id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert child.returncode == -9, child.stderr
    message_id = child.stdout.strip()

    async def read_back() -> RecipientStatus | None:
        store = SqlStore.from_url(db_url, FakeClock())
        try:
            view = await store.get_message(message_id)
        finally:
            await store.close()
        return view.recipients[0].status if view else None

    assert asyncio.run(read_back()) is RecipientStatus.QUEUED


async def test_enqueue_writes_one_queued_event_per_recipient(store: SqlStore) -> None:
    account = await store.ensure_account("acme")
    result = await store.enqueue(message(account.id, "a@example.test", "b@example.test"))

    events = await store.list_events(message_id=result.message_id)

    assert [event.type for event in events] == ["email.queued", "email.queued"]
    assert {event.payload["recipient"] for event in events} == {"a@example.test", "b@example.test"}
    assert all(event.payload["metadata"] == {"order": 42} for event in events)
    assert all(event.id.startswith("evt_") for event in events)
    # The metadata is stored once, with the message: no event row carries a copy of it.
    async with store.engines.writer.connect() as connection:
        stored = (await connection.execute(sa.select(schema.events.c.payload))).scalars().all()
    assert len(stored) == 2
    assert all("metadata" not in payload for payload in stored)


async def test_a_suppressed_address_is_stored_suppressed_with_an_event(store: SqlStore) -> None:
    account = await store.ensure_account("acme")
    await store.suppress(account.id, "Gone@Example.test", "manual")

    result = await store.enqueue(message(account.id, "gone@example.test", "ok@example.test"))

    statuses = {r.address: r.status for r in result.recipients}
    assert statuses == {
        "gone@example.test": RecipientStatus.SUPPRESSED,
        "ok@example.test": RecipientStatus.QUEUED,
    }
    types = {e.payload["recipient"]: e.type for e in await store.list_events()}
    assert types == {"gone@example.test": "email.suppressed", "ok@example.test": "email.queued"}


async def test_suppression_is_per_account(store: SqlStore) -> None:
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    await store.suppress(acme.id, "gone@example.test", "manual")

    result = await store.enqueue(message(other.id, "gone@example.test"))

    assert result.recipients[0].status is RecipientStatus.QUEUED


async def test_the_same_address_twice_is_one_recipient(store: SqlStore) -> None:
    account = await store.ensure_account("acme")

    result = await store.enqueue(message(account.id, "a@example.test", "A@EXAMPLE.test"))

    assert [r.address for r in result.recipients] == ["a@example.test"]


async def test_an_unknown_account_is_refused_and_nothing_is_stored(store: SqlStore) -> None:
    with pytest.raises(StorageError, match="no account"):
        await store.enqueue(message("NOSUCHACCOUNT", "a@example.test"))

    page = await store.list_messages(MessageFilter(), limit=10)
    assert page.items == ()


async def test_a_message_without_recipients_is_refused(store: SqlStore) -> None:
    account = await store.ensure_account("acme")

    with pytest.raises(StorageError, match="recipient"):
        await store.enqueue(message(account.id))


async def test_a_scheduled_message_is_not_due_before_its_time(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    await store.enqueue(
        message(account.id, "a@example.test", scheduled_at=clock.now() + timedelta(hours=1))
    )

    assert await store.claim_due("w1", clock.now(), 60, 10) == []
    later = await store.claim_due("w1", clock.now() + timedelta(hours=1), 60, 10)
    assert [job.recipients[0].address for job in later] == ["a@example.test"]


async def test_ensure_account_returns_the_same_account(store: SqlStore) -> None:
    first = await store.ensure_account("acme")
    second = await store.ensure_account("acme")

    assert first == second
    assert await store.get_account(first.id) == first


async def test_enqueue_many_is_all_or_nothing(store: SqlStore) -> None:
    account = await store.ensure_account("acme")
    good = message(account.id, "a@example.test")

    with pytest.raises(StorageError):
        await store.enqueue_many([good, message("NOSUCHACCOUNT", "b@example.test")])
    assert (await store.list_messages(MessageFilter(), limit=10)).items == ()

    results = await store.enqueue_many([good, message(account.id, "b@example.test")])
    page = await store.list_messages(MessageFilter(), limit=10)
    assert {item.id for item in page.items} == {result.message_id for result in results}
