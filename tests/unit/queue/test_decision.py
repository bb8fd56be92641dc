"""Decisions: deferrals are scheduled or expire; dead addresses are suppressed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from postillon.config.settings import RetrySettings
from postillon.queue.bounce import BounceClass
from postillon.queue.decision import Decision, decide
from postillon.queue.outcome import (
    FailureFacts,
    FailureKind,
    Outcome,
    ReplyFacts,
    Verdict,
    classify,
)
from postillon.queue.status import RecipientStatus

SETTINGS = RetrySettings()
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _decide(verdict: Verdict, *, age: timedelta, attempts: int = 1) -> Decision:
    return decide(
        verdict,
        created_at=CREATED,
        attempts=attempts,
        now=CREATED + age,
        settings=SETTINGS,
        random=lambda: 0.5,
    )


def test_a_4xx_is_deferred_by_the_backoff() -> None:
    decision = _decide(classify(ReplyFacts(451, "4.7.1", "try later")), age=timedelta(0))

    assert decision.status is RecipientStatus.DEFERRED
    assert decision.next_attempt_at == CREATED + timedelta(seconds=SETTINGS.base_s)


def test_a_4xx_after_the_lifetime_expires() -> None:
    decision = _decide(
        classify(ReplyFacts(451, "4.7.1", "try later")), age=timedelta(days=5), attempts=35
    )

    assert decision.status is RecipientStatus.EXPIRED
    assert decision.next_attempt_at is None


def test_no_mx_left_is_a_deferral() -> None:
    decision = _decide(Verdict(Outcome.TRY_NEXT_MX, BounceClass.OTHER), age=timedelta(0))

    assert decision.status is RecipientStatus.DEFERRED


def test_a_dead_mailbox_bounces_and_is_suppressed() -> None:
    decision = _decide(classify(ReplyFacts(550, "5.1.1", "user unknown")), age=timedelta(0))

    assert (decision.status, decision.suppress, decision.next_attempt_at) == (
        RecipientStatus.BOUNCED,
        True,
        None,
    )


def test_a_missing_final_reply_keeps_its_duplicate_flag() -> None:
    facts = FailureFacts(FailureKind.NO_FINAL_REPLY, True, "no reply")

    decision = _decide(classify(facts), age=timedelta(hours=1))

    assert decision.status is RecipientStatus.DEFERRED
    assert decision.possible_duplicate is True


def test_delivered_is_final() -> None:
    decision = _decide(classify(ReplyFacts(250, "2.0.0", "ok")), age=timedelta(0))

    assert (decision.status, decision.bounce_class, decision.suppress) == (
        RecipientStatus.DELIVERED,
        None,
        False,
    )
