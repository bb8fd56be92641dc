"""Fair claims: accounts take turns, transactional before broadcast within an account, and
nodes claiming at once on PostgreSQL still share out one queue without overlap."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from postillon.clock import FakeClock
from postillon.queue.stream import Stream
from postillon.storage import SqlStore
from postillon.storage.records import ClaimedJob
from tests.integration.storage.builders import message
from tests.integration.storage.conftest import StoreFactory

LEASE_S = 300.0


def _per_account(jobs: list[ClaimedJob]) -> Counter[str]:
    return Counter(job.account_id for job in jobs for _ in job.recipients)


async def _backlog(store: SqlStore, account_id: str, count: int, clock: FakeClock) -> None:
    for n in range(count):
        await store.enqueue(message(account_id, f"bulk{n}@example.test"))
        clock.advance(timedelta(milliseconds=1))


async def test_a_late_account_gets_its_mail_into_the_next_claim_behind_a_backlog(
    store: SqlStore, clock: FakeClock
) -> None:
    bulk = await store.ensure_account("bulk")
    tx = await store.ensure_account("tx")
    await _backlog(store, bulk.id, 60, clock)
    reset = await store.enqueue(message(tx.id, "someone@example.test"))

    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)

    assert reset.message_id in {job.message_id for job in jobs}
    assert _per_account(jobs) == {bulk.id: 9, tx.id: 1}


async def test_the_limit_is_shared_equally_and_the_leftover_goes_to_who_has_more(
    store: SqlStore, clock: FakeClock
) -> None:
    accounts = [await store.ensure_account(name) for name in ("a", "b", "c")]
    await _backlog(store, accounts[0].id, 30, clock)
    await _backlog(store, accounts[1].id, 30, clock)
    await _backlog(store, accounts[2].id, 2, clock)

    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 20)

    counts = _per_account(jobs)
    assert sum(counts.values()) == 20
    assert counts[accounts[2].id] == 2
    assert sorted((counts[accounts[0].id], counts[accounts[1].id])) == [9, 9]


async def test_accounts_beyond_the_limit_are_reached_by_the_rotation(
    store: SqlStore, clock: FakeClock
) -> None:
    accounts = [await store.ensure_account(f"acct{n}") for n in range(5)]
    for account in accounts:
        await _backlog(store, account.id, 4, clock)

    first = _per_account(await store.claim_due("w1", clock.now(), LEASE_S, 2))
    second = _per_account(await store.claim_due("w1", clock.now(), LEASE_S, 2))
    third = _per_account(await store.claim_due("w1", clock.now(), LEASE_S, 2))

    # Two accounts a claim, a different two each time: five accounts served within three claims.
    assert all(len(counts) == 2 for counts in (first, second, third))
    assert set(first) | set(second) | set(third) == {account.id for account in accounts}


async def test_transactional_mail_of_an_account_goes_before_its_older_broadcast(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    for n in range(5):
        await store.enqueue(message(account.id, f"news{n}@example.test", stream=Stream.BROADCAST))
    clock.advance(timedelta(seconds=1))
    reset = await store.enqueue(message(account.id, "reset@example.test"))

    [job] = await store.claim_due("w1", clock.now(), LEASE_S, 1)
    rest = await store.claim_due("w1", clock.now(), LEASE_S, 10)

    assert job.message_id == reset.message_id
    assert job.stream_rank == Stream.TRANSACTIONAL.rank
    assert len(rest) == 5
    assert {j.stream_rank for j in rest} == {Stream.BROADCAST.rank}


async def test_broadcast_is_claimed_when_no_transactional_mail_is_due(
    store: SqlStore, clock: FakeClock
) -> None:
    account = await store.ensure_account("acme")
    await store.enqueue(
        message(account.id, "later@example.test", scheduled_at=clock.now() + timedelta(hours=1))
    )
    news = await store.enqueue(message(account.id, "n@example.test", stream=Stream.BROADCAST))

    [job] = await store.claim_due("w1", clock.now(), LEASE_S, 10)

    assert job.message_id == news.message_id


async def test_nodes_claiming_at_once_share_accounts_without_overlap(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    first, second = await open_store(), await open_store()
    a = await first.ensure_account("a")
    b = await first.ensure_account("b")
    await _backlog(first, a.id, 40, clock)
    await _backlog(first, b.id, 40, clock)

    rounds = await asyncio.gather(
        *(
            (first if n % 2 else second).claim_due(f"w{n}", clock.now(), LEASE_S, 10)
            for n in range(8)
        )
    )

    ids = [r.id for jobs in rounds for job in jobs for r in job.recipients]
    assert len(ids) == len(set(ids)) == 80
    # Every claim of ten took from both accounts while both had due mail.
    assert all(len(_per_account(jobs)) == 2 for jobs in rounds if len(jobs) == 10)
