"""The overview's statistics: counts per time bucket (hourly and daily, bucketed in SQL), bounce
rate, TLS shares, queue depth and the message waiting longest, for one account only. On SQLite
and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.storage import RecipientOutcome, SqlStore
from postillon.storage.stats_sql import Counts, Overview, SqlStats, Window
from postillon.storage.transactions import Transactions
from tests.integration.storage.builders import attempt, deferred, delivered, hard_bounce, message
from tests.integration.storage.conftest import START

LEASE_S = 300.0
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _stats(store: SqlStore, clock: FakeClock) -> SqlStats:
    return SqlStats(Transactions(store.engines, clock))


async def _claimed(store: SqlStore, now: datetime) -> dict[str, str]:
    """Claim every due recipient: address -> recipient id."""
    jobs = await store.claim_due("w1", now, LEASE_S, 100)
    return {r.address: r.id for job in jobs for r in job.recipients}


def _plain(outcome: RecipientOutcome) -> RecipientOutcome:
    assert outcome.attempt is not None
    return replace(
        outcome,
        attempt=replace(
            outcome.attempt, tls_used=False, tls_version=None, tls_cipher=None, tls_verified=None
        ),
    )


def _expired(recipient_id: str, at: datetime) -> RecipientOutcome:
    return RecipientOutcome(
        recipient_id=recipient_id,
        status=RecipientStatus.EXPIRED,
        attempt=attempt(at, 451, "4.7.1", "Greylisted, try again later"),
    )


async def _history(store: SqlStore, clock: FakeClock) -> tuple[str, str]:
    """acme's mail from 12:00 to 13:05 (see the test below for what it holds), and one
    delivery of another account's; the ids of acme's first message and of the other account."""
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    at_noon = clock.now()
    first = await store.enqueue(
        message(acme.id, "d1@x.test", "d2@x.test", "b@x.test", "e@x.test", "w@x.test")
    )
    await store.enqueue(message(other.id, "t@y.test"))
    ids = await _claimed(store, at_noon)
    retry_at = at_noon + HOUR
    await store.record_outcomes(
        "w1",
        [
            delivered(ids["d1@x.test"], at_noon),
            _plain(delivered(ids["d2@x.test"], at_noon)),
            deferred(ids["b@x.test"], at_noon, retry_at),
            deferred(ids["e@x.test"], at_noon, retry_at),
            deferred(ids["w@x.test"], at_noon, at_noon + 6 * HOUR),
            delivered(ids["t@y.test"], at_noon),
        ],
    )
    clock.advance(65 * 60)  # 13:05
    ids = await _claimed(store, clock.now())
    assert set(ids) == {"b@x.test", "e@x.test"}
    await store.record_outcomes(
        "w1", [hard_bounce(ids["b@x.test"], clock.now()), _expired(ids["e@x.test"], clock.now())]
    )
    # b@x.test is now suppressed; q@x.test waits; s@x.test is scheduled for tonight.
    await store.enqueue(message(acme.id, "b@x.test", "q@x.test", subject="second"))
    clock.advance(1)
    await store.enqueue(message(acme.id, "s@x.test", scheduled_at=START + 8 * HOUR))
    return first.message_id, other.id


async def test_hourly_buckets_count_each_series_where_it_happened(
    store: SqlStore, clock: FakeClock
) -> None:
    first_id, _ = await _history(store, clock)
    acme = await store.ensure_account("acme")
    window = Window.covering(clock.now(), HOUR, 24)

    overview = await _stats(store, clock).overview(acme.id, window, clock.now())

    assert window.starts[22] == START
    noon, one = overview.buckets[22], overview.buckets[23]
    # Five recipients accepted at noon: two delivered (one over verified TLS, one in clear
    # text) and three deferred.
    assert noon == Counts(
        sent=5, delivered=2, deferred=3, delivered_over_tls=1, delivered_verified=1
    )
    # At 13:05: a hard bounce and an expiry (both bounced), one recipient suppressed, two sent.
    assert one == Counts(sent=2, suppressed=1, bounced=2)
    assert all(counts == Counts() for counts in overview.buckets[:22])
    totals = overview.totals
    assert (totals.bounce_rate, totals.tls_share, totals.verified_share) == (0.5, 0.5, 0.5)
    # Waiting: w (deferred), q (queued, due) and s (queued, scheduled later: not "oldest").
    assert (overview.queue.queued, overview.queue.deferred, overview.queue.depth) == (2, 1, 3)
    assert overview.queue.oldest is not None
    assert overview.queue.oldest.message_id == first_id
    assert overview.queue.oldest.waiting_since == START


async def test_daily_buckets_hold_the_same_totals(store: SqlStore, clock: FakeClock) -> None:
    await _history(store, clock)
    acme = await store.ensure_account("acme")
    hourly = await _stats(store, clock).overview(
        acme.id, Window.covering(clock.now(), HOUR, 24), clock.now()
    )

    daily = await _stats(store, clock).overview(
        acme.id, Window.covering(clock.now(), DAY, 7), clock.now()
    )

    assert daily.window.starts[-1] == START.replace(hour=0)
    assert daily.buckets[-1] == hourly.totals
    assert sum(daily.buckets[:-1], Counts()) == Counts()


async def test_another_account_sees_only_its_own(store: SqlStore, clock: FakeClock) -> None:
    _, other_id = await _history(store, clock)
    fresh = await store.ensure_account("fresh")
    window = Window.covering(clock.now(), HOUR, 24)
    stats = _stats(store, clock)

    theirs = await stats.overview(other_id, window, clock.now())
    nothing = await stats.overview(fresh.id, window, clock.now())

    assert theirs.totals == Counts(sent=1, delivered=1, delivered_over_tls=1, delivered_verified=1)
    assert (theirs.queue.depth, theirs.queue.oldest) == (0, None)
    assert nothing.totals == Counts()
    assert (nothing.queue.depth, nothing.queue.oldest) == (0, None)
    assert nothing.totals.bounce_rate is None
    assert nothing.totals.tls_share is None


async def test_a_window_that_has_moved_on_counts_nothing_but_the_queue_stays(
    store: SqlStore, clock: FakeClock
) -> None:
    await _history(store, clock)
    acme = await store.ensure_account("acme")
    later = clock.now() + 2 * DAY

    overview: Overview = await _stats(store, clock).overview(
        acme.id, Window.covering(later, HOUR, 24), later
    )

    assert overview.totals == Counts()
    assert overview.queue.depth == 3
    assert overview.queue.oldest is not None


async def test_bucket_edges_are_exact_to_the_microsecond(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    clock.advance(HOUR - timedelta(microseconds=1))  # 12:59:59.999999
    await store.enqueue(message(acme.id, "last@x.test"))
    clock.advance(timedelta(microseconds=1))  # 13:00:00 sharp
    await store.enqueue(message(acme.id, "first@x.test"))
    window = Window(start=START, bucket=HOUR, count=2)

    overview = await _stats(store, clock).overview(acme.id, window, clock.now())

    assert [counts.sent for counts in overview.buckets] == [1, 1]
    assert overview.queue.oldest is not None
    assert overview.queue.oldest.waiting_since == START + HOUR - timedelta(microseconds=1)
