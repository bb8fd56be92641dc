"""Searching messages by sender, subject and Message-ID (with the other filters and cursor
pages), and cancelling a message's waiting recipients while keeping its history; on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.storage import MessageFilter, NewMessage, SqlStore
from postillon.storage.records import CancelResult
from tests.integration.storage.builders import deferred, delivered, message
from tests.integration.storage.conftest import StoreFactory

LEASE_S = 300.0


def _mail(
    account_id: str,
    *,
    mail_from: str = "bounces@sender.test",
    from_header: str = "a@sender.test",
    subject: str = "hi",
    message_id: str = "<1@sender.test>",
    to: str = "r@example.test",
    tags: tuple[str, ...] = (),
) -> NewMessage:
    return replace(
        message(account_id, to, tags=tags, subject=subject),
        mail_from=mail_from,
        from_header=from_header,
        header_message_id=message_id,
    )


async def _ids(store: SqlStore, account_id: str, **filters: object) -> list[str]:
    page = await store.list_messages(
        MessageFilter(account_id=account_id, **filters),  # type: ignore[arg-type]
        limit=10,
    )
    return [item.id for item in page.items]


async def test_search_by_sender_subject_and_message_id(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    invoice = (
        await store.enqueue(
            _mail(
                acme.id,
                mail_from="bounces+1@pst.Shop.test",
                from_header="billing@shop.test",
                subject="Your Invoice 42",
                message_id="<inv42@shop.test>",
            )
        )
    ).message_id
    clock.advance(1)
    news = (
        await store.enqueue(
            _mail(
                acme.id,
                mail_from="bounces+2@pst.news.test",
                from_header="Editor@News.test",
                subject="100% off_today",
                message_id="<n1@news.test>",
            )
        )
    ).message_id
    clock.advance(1)
    await store.enqueue(_mail(other.id, from_header="billing@shop.test", subject="Your Invoice"))

    # Sender: the envelope sender or the From header, a substring, any case.
    assert await _ids(store, acme.id, sender="SHOP.test") == [invoice]
    assert await _ids(store, acme.id, sender="editor@news") == [news]
    assert await _ids(store, acme.id, sender="pst.") == [news, invoice]
    assert await _ids(store, acme.id, sender="nobody") == []
    # Subject: a substring, any case; the user's % and _ match only themselves.
    assert await _ids(store, acme.id, subject="invoice") == [invoice]
    assert await _ids(store, acme.id, subject="100%") == [news]
    assert await _ids(store, acme.id, subject="%") == [news]
    assert await _ids(store, acme.id, subject="f_t") == [news]
    assert await _ids(store, acme.id, subject="r_I") == []  # "r I" would match a wildcard
    assert await _ids(store, acme.id, subject="\\") == []
    # Message-ID: exact, with or without the angle brackets.
    assert await _ids(store, acme.id, header_message_id="<inv42@shop.test>") == [invoice]
    assert await _ids(store, acme.id, header_message_id=" inv42@shop.test ") == [invoice]
    assert await _ids(store, acme.id, header_message_id="inv42@shop") == []
    # Filters combine.
    assert await _ids(store, acme.id, sender="shop", subject="100") == []
    assert await _ids(store, acme.id, sender="shop", status=RecipientStatus.QUEUED) == [invoice]


async def test_a_nul_in_a_search_matches_nothing(store: SqlStore) -> None:
    acme = await store.ensure_account("acme")
    await store.enqueue(_mail(acme.id))
    for field in ("sender", "subject", "header_message_id", "recipient", "tag"):
        assert await _ids(store, acme.id, **{field: "a\x00"}) == [], field


async def test_cursor_pages_keep_the_search(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    wanted = []
    for n in range(5):
        wanted.append((await store.enqueue(_mail(acme.id, subject=f"Report {n}"))).message_id)
        await store.enqueue(_mail(acme.id, subject=f"Other {n}"))
        clock.advance(1)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = await store.list_messages(
            MessageFilter(account_id=acme.id, subject="report"), limit=2, cursor=cursor
        )
        seen += [item.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(wanted))


async def test_cancel_keeps_history_and_leaves_leased_and_final_recipients(
    store: SqlStore, clock: FakeClock
) -> None:
    acme = await store.ensure_account("acme")
    sent = await store.enqueue(
        message(acme.id, "queued@a.test", "deferred@b.test", "leased@c.test", "done@d.test")
    )
    ids = {r.address: r.id for r in sent.recipients}
    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    assert len(jobs) == 4
    later = clock.now() + timedelta(hours=1)
    await store.record_outcomes(
        "w1",
        [
            deferred(ids["deferred@b.test"], clock.now(), later),
            delivered(ids["done@d.test"], clock.now()),
        ],
    )
    await store.release_lease("w1", [ids["queued@a.test"]])
    # leased@c.test is still leased to w1: it is being delivered right now.

    result = await store.cancel(sent.message_id, clock.now())

    assert result == CancelResult(cancelled=2, in_flight=1, finished=1)
    view = await store.get_message(sent.message_id)
    assert view is not None
    statuses = {r.address: r.status for r in view.recipients}
    assert statuses == {
        "queued@a.test": RecipientStatus.CANCELLED,
        "deferred@b.test": RecipientStatus.CANCELLED,
        "leased@c.test": RecipientStatus.QUEUED,
        "done@d.test": RecipientStatus.DELIVERED,
    }
    by_address = {r.address: r for r in view.recipients}
    assert len(by_address["deferred@b.test"].attempt_log) == 1  # the attempt is kept
    assert by_address["queued@a.test"].next_attempt_at is None
    events = await store.list_events(message_id=sent.message_id)
    cancelled = [e for e in events if e.type == "email.cancelled"]
    assert sorted(e.payload["recipient"] for e in cancelled) == [
        "deferred@b.test",
        "queued@a.test",
    ]
    assert all(e.account_id == acme.id for e in cancelled)
    assert cancelled[0].payload["message_id"] == sent.message_id
    # Nothing cancelled is ever claimed again, even once due and after every lease ran out.
    clock.advance(timedelta(days=1))
    assert await store.retry_now(sent.message_id) == 1  # only the leased one still waits
    [job] = await store.claim_due("w2", clock.now(), LEASE_S, 10)
    assert [r.address for r in job.recipients] == ["leased@c.test"]
    # Cancelling again changes nothing more.
    again = await store.cancel(sent.message_id, clock.now())
    assert again == CancelResult(cancelled=0, in_flight=1, finished=3)


async def test_an_expired_lease_is_not_in_flight_and_a_late_outcome_cannot_revive(
    store: SqlStore, clock: FakeClock
) -> None:
    acme = await store.ensure_account("acme")
    sent = await store.enqueue(message(acme.id, "slow@a.test"))
    [job] = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    clock.advance(LEASE_S + 1)

    assert await store.cancel(sent.message_id, clock.now()) == CancelResult(1, 0, 0)

    late = await store.record_outcomes("w1", [delivered(job.recipients[0].id, clock.now())])
    assert late.ignored == (job.recipients[0].id,)
    view = await store.get_message(sent.message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.CANCELLED
    assert len(view.recipients[0].attempt_log) == 1  # what happened is still logged


async def test_cancel_is_scoped_to_the_account(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    sent = await store.enqueue(message(acme.id, "a@a.test"))

    assert await store.cancel(sent.message_id, clock.now(), account_id=other.id) is None
    assert await store.cancel("01NOSUCHMESSAGE000000000000", clock.now()) is None
    view = await store.get_message(sent.message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.QUEUED
    result = await store.cancel(sent.message_id, clock.now(), account_id=acme.id)
    assert result == CancelResult(cancelled=1, in_flight=0, finished=0)


async def test_attempts_are_read_back_with_their_ids(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    sent = await store.enqueue(message(acme.id, "a@a.test", "b@b.test"))
    for _ in range(2):
        jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)
        later = clock.now() + timedelta(minutes=1)
        await store.record_outcomes(
            "w1", [deferred(r.id, clock.now(), later) for job in jobs for r in job.recipients]
        )
        clock.advance(120)
    view = await store.get_message(sent.message_id)
    assert view is not None
    ids = [a.id for r in view.recipients for a in r.attempt_log]
    assert len(ids) == len(set(ids)) == 4
    assert all(isinstance(i, int) and i > 0 for i in ids)


async def test_cancelled_is_a_listing_status(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    kept = await store.enqueue(message(acme.id, "a@a.test"))
    await store.enqueue(message(acme.id, "b@b.test"))
    await store.cancel(kept.message_id, clock.now())
    assert await _ids(store, acme.id, status=RecipientStatus.CANCELLED) == [kept.message_id]


async def test_a_cancel_racing_a_claim_never_cancels_what_was_claimed(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    api, worker = await open_store(), await open_store()
    acme = await api.ensure_account("acme")
    sent = [await api.enqueue(message(acme.id, f"r{n}@example.test")) for n in range(40)]

    cancels = asyncio.gather(*(api.cancel(s.message_id, clock.now()) for s in sent))
    claim = worker.claim_due("w1", clock.now(), LEASE_S, 40)
    jobs, outcomes = await asyncio.gather(claim, cancels)

    claimed = {r.id for job in jobs for r in job.recipients}
    for s, outcome in zip(sent, outcomes, strict=True):
        [recipient] = s.recipients
        assert outcome == (
            CancelResult(0, 1, 0) if recipient.id in claimed else CancelResult(1, 0, 0)
        )
        view = await api.get_message(s.message_id)
        assert view is not None
        expected = RecipientStatus.QUEUED if recipient.id in claimed else RecipientStatus.CANCELLED
        assert view.recipients[0].status is expected
