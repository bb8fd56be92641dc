"""The status model: final statuses have no way out; active ones reach every final one."""

from __future__ import annotations

import pytest

from postillon.queue.status import (
    ACTIVE_STATUSES,
    INITIAL_STATUSES,
    RecipientStatus,
    can_transition,
    event_type_for,
)

FINAL = [status for status in RecipientStatus if status.is_final]


@pytest.mark.parametrize("final", FINAL, ids=str)
@pytest.mark.parametrize("target", list(RecipientStatus), ids=str)
def test_a_final_status_never_changes(final: RecipientStatus, target: RecipientStatus) -> None:
    assert not can_transition(final, target)


@pytest.mark.parametrize("active", sorted(ACTIVE_STATUSES), ids=str)
@pytest.mark.parametrize("target", [RecipientStatus.DEFERRED, *FINAL], ids=str)
def test_an_active_status_can_defer_or_finish(
    active: RecipientStatus, target: RecipientStatus
) -> None:
    assert can_transition(active, target)


def test_nothing_goes_back_to_queued() -> None:
    assert not any(can_transition(status, RecipientStatus.QUEUED) for status in RecipientStatus)


def test_the_statuses_are_the_documented_seven() -> None:
    assert {s.value for s in RecipientStatus} == {
        "queued",
        "deferred",
        "delivered",
        "bounced",
        "expired",
        "suppressed",
        "failed",
    }
    assert {RecipientStatus.QUEUED, RecipientStatus.SUPPRESSED} == INITIAL_STATUSES


@pytest.mark.parametrize(
    ("status", "event"),
    [
        pytest.param(RecipientStatus.QUEUED, "email.queued", id="queued"),
        pytest.param(RecipientStatus.DELIVERED, "email.delivered", id="delivered"),
        pytest.param(RecipientStatus.EXPIRED, "email.expired", id="expired"),
        pytest.param(RecipientStatus.SUPPRESSED, "email.suppressed", id="suppressed"),
    ],
)
def test_each_status_has_its_event_type(status: RecipientStatus, event: str) -> None:
    assert event_type_for(status) == event
