"""Reads and operator actions: filtered, paginated listings; the queue; retry now; delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.storage import MessageFilter, SqlStore, StorageError
from tests.integration.storage.builders import deferred, delivered, message

LEASE_S = 300.0


async def test_pages_walk_every_message_newest_first_once(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    ids = []
    for n in range(7):
        ids.append((await store.enqueue(message(account.id, f"r{n}@example.test"))).message_id)
        clock.advance(1)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await store.list_messages(
            MessageFilter(account_id=account.id), limit=3, cursor=cursor
        )
        seen.extend(item.id for item in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == list(reversed(ids))
    assert pages == 3


async def test_filters_by_status_recipient_tag_and_time(store: SqlStore, clock: FakeClock) -> None:
    account = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    first = await store.enqueue(message(account.id, "a@example.test", tags=("welcome",)))
    clock.advance(3600)
    second = await store.enqueue(message(account.id, "Bob@example.test", tags=("invoice",)))
    await store.enqueue(message(other.id, "a@example.test", tags=("welcome",)))
    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    bob = next(r.id for job in jobs for r in job.recipients if r.address == "Bob@example.test")
    await store.record_outcomes("w1", [delivered(bob, clock.now())])

    async def ids(**filters: object) -> list[str]:
        page = await store.list_messages(
            MessageFilter(account_id=account.id, **filters),  # type: ignore[arg-type]
            limit=10,
        )
        return [item.id for item in page.items]

    assert await ids(status=RecipientStatus.DELIVERED) == [second.message_id]
    assert await ids(recipient="bob@EXAMPLE.test") == [second.message_id]
    assert await ids(tag="welcome") == [first.message_id]
    assert await ids(created_before=clock.now()) == [first.message_id]
    assert await ids(created_after=clock.now()) == [second.message_id]


async def test_another_accounts_message_is_not_found(store: SqlStore) -> None:
    account = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    result = await store.enqueue(message(account.id, "a@example.test"))

    assert await store.get_message(result.message_id, account_id=other.id) is None
    assert await store.get_message(result.message_id, account_id=account.id) is not None


async def test_a_malformed_cursor_is_refused(store: SqlStore) -> None:
    with pytest.raises(StorageError, match="cursor"):
        await store.list_messages(MessageFilter(), limit=10, cursor="'; drop table messages")


async def test_retry_now_makes_deferred_recipients_due(store: SqlStore, clock: FakeClock) -> None:
    account = await store.ensure_account("acme")
    result = await store.enqueue(message(account.id, "a@example.test"))
    [job] = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    retry_at = clock.now() + timedelta(hours=2)
    await store.record_outcomes("w1", [deferred(job.recipients[0].id, clock.now(), retry_at)])
    assert await store.claim_due("w1", clock.now(), LEASE_S, 10) == []

    assert await store.retry_now(result.message_id) == 1

    assert len(await store.claim_due("w1", clock.now(), LEASE_S, 10)) == 1


async def test_the_queue_lists_waiting_recipients_soonest_first(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    await store.enqueue(
        message(account.id, "later@b.test", scheduled_at=clock.now() + timedelta(1))
    )
    await store.enqueue(message(account.id, "now@a.test"))

    queue = await store.list_queue(limit=10)
    only_b = await store.list_queue(limit=10, domain="B.test")

    assert [r.address for r in queue] == ["now@a.test", "later@b.test"]
    assert [r.address for r in only_b] == ["later@b.test"]


async def test_delete_removes_message_recipients_and_attempts(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    result = await store.enqueue(message(account.id, "a@example.test"))
    [job] = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    await store.record_outcomes("w1", [delivered(job.recipients[0].id, clock.now())])

    assert await store.delete_message(result.message_id) is True

    assert await store.get_message(result.message_id) is None
    assert await store.list_queue(limit=10, status=RecipientStatus.DELIVERED) == []
    assert await store.delete_message(result.message_id) is False
    # Events outlive the message: webhooks already promised may still be sent.
    assert len(await store.list_events(message_id=result.message_id)) == 2


async def test_unsuppress_lets_the_address_be_sent_to_again(store: SqlStore) -> None:
    account = await store.ensure_account("acme")
    assert await store.suppress(account.id, "a@example.test", "manual") is True
    assert await store.suppress(account.id, "A@example.test", "bounce") is False

    assert await store.unsuppress(account.id, "a@example.test") is True

    result = await store.enqueue(message(account.id, "a@example.test"))
    assert result.recipients[0].status is RecipientStatus.QUEUED
