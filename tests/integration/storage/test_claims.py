"""Claims and leases: no recipient held by two owners; expired leases are due again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.storage import SqlStore
from tests.integration.storage.builders import deferred, delivered, message
from tests.integration.storage.conftest import StoreFactory

LEASE_S = 300.0


def _ids(jobs: list) -> set[str]:  # type: ignore[type-arg]
    return {recipient.id for job in jobs for recipient in job.recipients}


async def test_jobs_group_recipients_by_message_and_domain(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    result = await store.enqueue(
        message(account.id, "a@one.test", "b@one.test", "c@two.test", "d@ONE.test")
    )

    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 100)

    grouped = {job.domain: sorted(r.address for r in job.recipients) for job in jobs}
    assert grouped == {
        "one.test": ["a@one.test", "b@one.test", "d@ONE.test"],
        "two.test": ["c@two.test"],
    }
    assert all(job.message_id == result.message_id for job in jobs)
    assert all(job.lease_until == clock.now() + timedelta(seconds=LEASE_S) for job in jobs)
    assert all(job.created_at == clock.now() for job in jobs)


async def test_two_owners_never_get_the_same_recipient(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    first, second = await open_store(), await open_store()
    account = await first.ensure_account("acme")
    for n in range(20):
        await first.enqueue(message(account.id, *(f"r{n}-{i}@example.test" for i in range(5))))

    claims = await asyncio.gather(
        *(
            (first if n % 2 else second).claim_due(f"w{n}", clock.now(), LEASE_S, 15)
            for n in range(8)
        )
    )

    claimed = [_ids(jobs) for jobs in claims]
    assert sum(len(ids) for ids in claimed) == 100
    assert len(set().union(*claimed)) == 100
    assert await first.claim_due("late", clock.now(), LEASE_S, 100) == []


async def test_an_expired_lease_makes_the_recipient_due_again(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    await store.enqueue(message(account.id, "a@example.test"))
    crashed = await store.claim_due("crashed-worker", clock.now(), LEASE_S, 10)

    clock.advance(LEASE_S - 1)
    assert await store.claim_due("w2", clock.now(), LEASE_S, 10) == []
    clock.advance(1)
    reclaimed = await store.claim_due("w2", clock.now(), LEASE_S, 10)

    assert _ids(reclaimed) == _ids(crashed)
    queue = await store.list_queue(limit=10)
    assert queue[0].lease_owner == "w2"


async def test_a_renewed_lease_keeps_others_away(store: SqlStore, clock: FakeClock) -> None:
    account = await store.ensure_account("acme")
    await store.enqueue(message(account.id, "a@example.test"))
    ids = list(_ids(await store.claim_due("w1", clock.now(), LEASE_S, 10)))

    clock.advance(LEASE_S - 10)
    assert await store.renew_lease("w1", ids, clock.now(), LEASE_S) == 1
    assert await store.renew_lease("intruder", ids, clock.now(), LEASE_S) == 0
    clock.advance(20)

    assert await store.claim_due("w2", clock.now(), LEASE_S, 10) == []


async def test_a_released_lease_is_due_at_once(store: SqlStore, clock: FakeClock) -> None:
    account = await store.ensure_account("acme")
    await store.enqueue(message(account.id, "a@example.test"))
    ids = list(_ids(await store.claim_due("w1", clock.now(), LEASE_S, 10)))

    assert await store.release_lease("w1", ids) == 1

    assert _ids(await store.claim_due("w2", clock.now(), LEASE_S, 10)) == set(ids)


async def test_claims_take_the_oldest_due_first_and_respect_the_limit(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    older = await store.enqueue(message(account.id, "old@example.test"))
    clock.advance(1)
    await store.enqueue(message(account.id, "new@example.test"))

    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 1)

    assert [job.message_id for job in jobs] == [older.message_id]


async def test_deferred_recipients_wait_for_their_time_and_final_ones_never_return(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    await store.enqueue(message(account.id, "later@example.test", "done@example.test"))
    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    by_address = {r.address: r.id for job in jobs for r in job.recipients}
    retry_at = clock.now() + timedelta(minutes=5)
    await store.record_outcomes(
        "w1",
        [
            deferred(by_address["later@example.test"], clock.now(), retry_at),
            delivered(by_address["done@example.test"], clock.now()),
        ],
    )

    assert await store.claim_due("w1", clock.now(), LEASE_S, 10) == []
    clock.advance(timedelta(minutes=5))
    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)

    assert [(r.address, r.attempts) for job in jobs for r in job.recipients] == [
        ("later@example.test", 1)
    ]
    queue = await store.list_queue(limit=10, status=RecipientStatus.DELIVERED)
    assert [r.address for r in queue] == ["done@example.test"]


async def test_a_claim_limit_out_of_bounds_is_refused(store: SqlStore, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="claim limit"):
        await store.claim_due("w1", clock.now(), LEASE_S, 0)
