"""The status model: final statuses have no way out; active ones reach every final one but
``failed`` (nothing records it; a waiting recipient can be cancelled); every status a recipient
can reach has its webhook event type."""

from __future__ import annotations

import pytest

from postillon.events import EventType
from postillon.queue.status import (
    ACTIVE_STATUSES,
    INITIAL_STATUSES,
    LATE_TRANSITIONS,
    STATUS_EVENTS,
    TRANSITIONS,
    RecipientStatus,
    can_transition,
    event_type_for,
)
from postillon.webhooks.filters import EventFilter

FINAL = [status for status in RecipientStatus if status.is_final]
# What a recipient can move to: everything final but ``failed``, which nothing records.
REACHABLE_FINAL = [status for status in FINAL if status is not RecipientStatus.FAILED]


@pytest.mark.parametrize("final", FINAL, ids=str)
@pytest.mark.parametrize("target", list(RecipientStatus), ids=str)
def test_a_final_status_never_changes(final: RecipientStatus, target: RecipientStatus) -> None:
    assert not can_transition(final, target)


@pytest.mark.parametrize("active", sorted(ACTIVE_STATUSES), ids=str)
@pytest.mark.parametrize("target", [RecipientStatus.DEFERRED, *REACHABLE_FINAL], ids=str)
def test_an_active_status_can_defer_or_finish(
    active: RecipientStatus, target: RecipientStatus
) -> None:
    assert can_transition(active, target)


def test_nothing_goes_back_to_queued() -> None:
    assert not any(can_transition(status, RecipientStatus.QUEUED) for status in RecipientStatus)


def test_the_statuses_are_the_documented_eight() -> None:
    assert {s.value for s in RecipientStatus} == {
        "queued",
        "deferred",
        "delivered",
        "bounced",
        "expired",
        "suppressed",
        "failed",
        "cancelled",
    }
    assert {RecipientStatus.QUEUED, RecipientStatus.SUPPRESSED} == INITIAL_STATUSES


@pytest.mark.parametrize("waiting", [RecipientStatus.QUEUED, RecipientStatus.DEFERRED], ids=str)
def test_a_waiting_recipient_can_be_cancelled_and_stays_cancelled(
    waiting: RecipientStatus,
) -> None:
    assert can_transition(waiting, RecipientStatus.CANCELLED)
    assert RecipientStatus.CANCELLED.is_final
    assert not RecipientStatus.CANCELLED.is_active
    # A late answer from a worker whose lease ran out cannot revive it.
    assert not can_transition(RecipientStatus.CANCELLED, RecipientStatus.DELIVERED)
    assert not can_transition(RecipientStatus.CANCELLED, RecipientStatus.DEFERRED)


@pytest.mark.parametrize("final", [s for s in FINAL if s is not RecipientStatus.CANCELLED], ids=str)
def test_a_finished_recipient_cannot_be_cancelled(final: RecipientStatus) -> None:
    assert not can_transition(final, RecipientStatus.CANCELLED)


def test_no_move_leads_to_failed() -> None:
    assert not any(can_transition(status, RecipientStatus.FAILED) for status in RecipientStatus)
    with pytest.raises(KeyError):
        event_type_for(RecipientStatus.FAILED)


def test_every_status_storage_can_record_has_a_webhook_event_type() -> None:
    # Storage writes event_type_for(status) for a new recipient (INITIAL_STATUSES), an outcome
    # or a cancel (TRANSITIONS) and a late report (LATE_TRANSITIONS).
    reachable = set(INITIAL_STATUSES)
    for table in (TRANSITIONS, LATE_TRANSITIONS):
        for targets in table.values():
            reachable |= targets
    assert reachable == set(STATUS_EVENTS)
    names = {event_type_for(status) for status in reachable}
    assert all(isinstance(name, EventType) for name in names)
    # ... so an endpoint can subscribe to each (email.cancelled included).
    assert EventFilter.parse(sorted(names)).matches(EventType.EMAIL_CANCELLED)


@pytest.mark.parametrize(
    ("status", "event"),
    [
        pytest.param(RecipientStatus.QUEUED, "email.queued", id="queued"),
        pytest.param(RecipientStatus.DELIVERED, "email.delivered", id="delivered"),
        pytest.param(RecipientStatus.EXPIRED, "email.expired", id="expired"),
        pytest.param(RecipientStatus.SUPPRESSED, "email.suppressed", id="suppressed"),
        pytest.param(RecipientStatus.CANCELLED, "email.cancelled", id="cancelled"),
    ],
)
def test_each_status_has_its_event_type(status: RecipientStatus, event: str) -> None:
    assert event_type_for(status) == event
