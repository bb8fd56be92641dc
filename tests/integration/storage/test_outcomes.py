"""Recording outcomes: attempt row, status, event and suppression land in one commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.queue.bounce import BounceClass
from postillon.queue.status import RecipientStatus
from postillon.storage import RecipientOutcome, SqlStore, outbox
from postillon.storage.records import AttemptRecord
from tests.integration.storage.builders import deferred, delivered, hard_bounce, message
from tests.integration.storage.conftest import StoreFactory

LEASE_S = 300.0


async def _claim_one(store: SqlStore, clock: FakeClock, address: str) -> tuple[str, str]:
    account = await store.ensure_account("acme")
    result = await store.enqueue(message(account.id, address))
    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    return result.message_id, jobs[0].recipients[0].id


async def test_delivery_writes_attempt_status_and_event_visible_to_another_store(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    store = await open_store()
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")

    result = await store.record_outcomes("w1", [delivered(recipient_id, clock.now())])

    assert result.applied == (recipient_id,)
    other = await open_store()
    view = await other.get_message(message_id)
    assert view is not None
    recipient = view.recipients[0]
    assert (recipient.status, recipient.attempts, recipient.last_reply_code) == (
        RecipientStatus.DELIVERED,
        1,
        250,
    )
    assert recipient.lease_owner is None
    [log] = recipient.attempt_log
    assert (log.number, log.record.mx_host, log.record.tls_version) == (
        1,
        "mx1.example.test",
        "TLSv1.3",
    )
    assert log.record.mta_sts_mode == "enforce"
    events = await other.list_events(message_id=message_id)
    assert [e.type for e in events] == ["email.queued", "email.delivered"]
    payload = events[-1].payload
    assert payload["reply"] == {"code": 250, "enhanced_code": "2.0.0", "text": "OK queued as 1234"}
    assert payload["tls"]["cipher"] == "TLS_AES_256_GCM_SHA384"
    assert (payload["attempt"], payload["mx_host"], payload["ip"]) == (
        1,
        "mx1.example.test",
        "127.0.0.41",
    )


async def test_a_failure_inside_the_batch_leaves_nothing_behind(
    store: SqlStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")

    async def crash(*_: object) -> None:
        raise RuntimeError("power cut before the commit")

    # What no real database can be made to do on cue: die between the writes and the commit.
    monkeypatch.setattr("postillon.storage.outcomes.insert_events", crash)
    with pytest.raises(RuntimeError):
        await store.record_outcomes("w1", [delivered(recipient_id, clock.now())])
    monkeypatch.undo()

    view = await store.get_message(message_id)
    assert view is not None
    recipient = view.recipients[0]
    assert (recipient.status, recipient.attempts, recipient.attempt_log) == (
        RecipientStatus.QUEUED,
        0,
        (),
    )
    assert recipient.lease_owner == "w1"
    assert [e.type for e in await store.list_events()] == ["email.queued"]


async def test_a_final_status_is_never_overwritten_but_the_attempt_is_logged(
    store: SqlStore, clock: FakeClock
) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")
    await store.record_outcomes("w1", [delivered(recipient_id, clock.now())])

    late = deferred(recipient_id, clock.now(), clock.now() + timedelta(minutes=5))
    result = await store.record_outcomes("stale-worker", [late])

    assert result.ignored == (recipient_id,)
    view = await store.get_message(message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.DELIVERED
    assert len(view.recipients[0].attempt_log) == 2
    assert [e.type for e in await store.list_events()] == ["email.queued", "email.delivered"]


async def test_hard_bounce_suppresses_and_a_later_enqueue_is_suppressed(
    store: SqlStore, clock: FakeClock
) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "Gone@example.test")

    await store.record_outcomes("w1", [hard_bounce(recipient_id, clock.now())])

    account = await store.ensure_account("acme")
    [entry] = await store.list_suppressions(account.id, limit=10)
    assert (entry.address, entry.source_message_id) == ("gone@example.test", message_id)
    view = await store.get_message(message_id)
    assert view is not None
    assert view.recipients[0].bounce_class is BounceClass.BAD_MAILBOX
    later = await store.enqueue(message(account.id, "gone@example.test"))
    assert later.recipients[0].status is RecipientStatus.SUPPRESSED
    assert await store.claim_due("w1", clock.now(), LEASE_S, 10) == []


async def test_a_complaint_after_delivery_is_applied_as_a_received_one(
    store: SqlStore, clock: FakeClock
) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "Annoyed@example.test")
    outcome = replace(delivered(recipient_id, clock.now()), complained=True)

    await store.record_outcomes("w1", [outcome])

    account = await store.ensure_account("acme")
    [entry] = await store.list_suppressions(account.id, limit=10)
    assert (entry.address, entry.reason, entry.detail, entry.source_message_id) == (
        "annoyed@example.test",
        "complaint",
        "feedback-type abuse",
        message_id,
    )
    view = await store.get_message(message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.DELIVERED
    events = await store.list_events(message_id=message_id)
    assert [e.type for e in events] == ["email.queued", "email.delivered", "email.complained"]
    assert events[-1].payload["feedback_type"] == "abuse"
    later = await store.enqueue(message(account.id, "annoyed@example.test"))
    assert later.recipients[0].status is RecipientStatus.SUPPRESSED


async def test_a_bounce_that_does_not_suppress_leaves_the_list_alone(
    store: SqlStore, clock: FakeClock
) -> None:
    _, recipient_id = await _claim_one(store, clock, "full@example.test")
    full = RecipientOutcome(
        recipient_id=recipient_id,
        status=RecipientStatus.BOUNCED,
        attempt=None,
        bounce_class=BounceClass.MAILBOX_FULL,
    )

    await store.record_outcomes("w1", [full])

    account = await store.ensure_account("acme")
    assert await store.list_suppressions(account.id, limit=10) == []


async def test_no_reply_to_the_final_dot_is_kept_as_possible_duplicate(
    store: SqlStore, clock: FakeClock
) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")
    unsure = RecipientOutcome(
        recipient_id=recipient_id,
        status=RecipientStatus.DEFERRED,
        attempt=None,
        next_attempt_at=clock.now() + timedelta(minutes=5),
        possible_duplicate=True,
    )
    await store.record_outcomes("w1", [unsure])
    clock.advance(timedelta(minutes=5))
    await store.claim_due("w1", clock.now(), LEASE_S, 10)

    await store.record_outcomes("w1", [delivered(recipient_id, clock.now())])

    view = await store.get_message(message_id)
    assert view is not None
    assert view.recipients[0].possible_duplicate is True
    events = await store.list_events(message_id=message_id)
    assert [e.payload.get("possible_duplicate") for e in events[1:]] == [True, True]


async def test_a_deferral_without_a_next_attempt_time_is_refused(
    store: SqlStore, clock: FakeClock
) -> None:
    _, recipient_id = await _claim_one(store, clock, "a@example.test")
    broken = RecipientOutcome(recipient_id, RecipientStatus.DEFERRED, attempt=None)

    with pytest.raises(ValueError, match="next_attempt_at"):
        await store.record_outcomes("w1", [broken])


async def test_an_outcome_for_a_deleted_message_is_ignored(
    store: SqlStore, clock: FakeClock
) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")
    assert await store.delete_message(message_id)

    result = await store.record_outcomes("w1", [delivered(recipient_id, clock.now())])

    assert result.ignored == (recipient_id,)


async def test_events_are_claimed_once_and_marked_dispatched(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    first, second = await open_store(), await open_store()
    account = await first.ensure_account("acme")
    await first.enqueue(message(account.id, "a@example.test", "b@example.test"))

    mine = await first.claim_events("node1", clock.now(), 60, 10)
    theirs = await second.claim_events("node2", clock.now(), 60, 10)

    assert [e.type for e in mine] == ["email.queued", "email.queued"]
    assert theirs == []
    assert await first.mark_dispatched([mine[0].id]) == 1
    clock.advance(60)
    again = await second.claim_events("node2", clock.now(), 60, 10)
    assert [e.id for e in again] == [mine[1].id]
    assert outbox.EVENT_ID_PREFIX == "evt_"


async def test_a_stale_deferral_does_not_break_the_new_owners_lease(
    store: SqlStore, clock: FakeClock
) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")
    clock.advance(LEASE_S)
    assert await store.claim_due("w2", clock.now(), LEASE_S, 10)

    late = deferred(recipient_id, clock.now(), clock.now())
    result = await store.record_outcomes("w1", [late])

    assert result.ignored == (recipient_id,)
    assert await store.claim_due("w3", clock.now(), LEASE_S, 10) == []
    view = await store.get_message(message_id)
    assert view is not None
    assert (view.recipients[0].lease_owner, view.recipients[0].attempts) == ("w2", 1)


async def test_a_stale_delivery_is_still_recorded(store: SqlStore, clock: FakeClock) -> None:
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")
    clock.advance(LEASE_S)
    assert await store.claim_due("w2", clock.now(), LEASE_S, 10)

    result = await store.record_outcomes("w1", [delivered(recipient_id, clock.now())])

    assert result.applied == (recipient_id,)
    view = await store.get_message(message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.DELIVERED


async def test_the_transport_security_policy_of_an_attempt_is_kept_and_sent_in_events(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    store = await open_store()
    message_id, recipient_id = await _claim_one(store, clock, "a@example.test")
    refused = replace(
        deferred(recipient_id, clock.now(), clock.now() + timedelta(minutes=5)),
        attempt=AttemptRecord(
            started_at=clock.now(),
            duration_ms=12,
            reply_text="DANE: mx1.example.test: the certificate chain matches no TLSA record",
            enhanced_code="4.7.5",
            mx_host="mx1.example.test",
            tls_policy="dane",
            tls_refusal="DANE (TLSA at _25._tcp.mx1.example.test): no TLSA record matched",
        ),
    )
    await store.record_outcomes("w1", [refused])
    clock.advance(timedelta(minutes=6))
    await store.claim_due("w1", clock.now(), LEASE_S, 10)
    ok = delivered(recipient_id, clock.now())
    assert ok.attempt is not None
    ok = replace(ok, attempt=replace(ok.attempt, tls_policy="dane", dane_tlsa="3 1 1"))
    await store.record_outcomes("w1", [ok])

    view = await (await open_store()).get_message(message_id)
    assert view is not None
    first, second = (log.record for log in view.recipients[0].attempt_log)
    assert (first.tls_policy, first.dane_tlsa) == ("dane", None)
    assert first.tls_refusal is not None
    assert "no TLSA record matched" in first.tls_refusal
    assert (second.tls_policy, second.dane_tlsa, second.tls_refusal) == ("dane", "3 1 1", None)
    events = await store.list_events(message_id=message_id)
    assert [e.type for e in events] == ["email.queued", "email.deferred", "email.delivered"]
    assert events[1].payload["tls"]["refusal"] == first.tls_refusal
    assert events[2].payload["tls"]["policy"] == "dane"
    assert events[2].payload["tls"]["dane_tlsa"] == "3 1 1"
