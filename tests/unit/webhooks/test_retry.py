"""The retry rules: the schedule, jitter, Retry-After, what is not retried, when to disable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postillon.webhooks.result import DeliveryResult, FailureKind
from postillon.webhooks.retry import (
    DISABLE_AFTER,
    MAX_RETRY_AFTER,
    EndpointHealth,
    RetryPolicy,
    Verdict,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = RetryPolicy()


def no_jitter() -> float:
    return 0.0


def most_jitter() -> float:
    return 0.999


def failed(
    at: datetime, status: int | None = 503, retry_after_s: float | None = None
) -> DeliveryResult:
    failure = FailureKind.HTTP_STATUS if status is not None else FailureKind.TIMEOUT
    return DeliveryResult(at, status, 10, failure=failure, retry_after_s=retry_after_s)


def ok(at: datetime) -> DeliveryResult:
    return DeliveryResult(at, 204, 10)


def test_the_schedule_is_the_specs_ten_attempts_over_three_days() -> None:
    assert POLICY.max_attempts == 10
    assert POLICY.total_span() == timedelta(hours=75, minutes=35, seconds=5)
    assert POLICY.total_span() >= DISABLE_AFTER


def test_an_event_that_always_fails_walks_the_table_then_fails() -> None:
    # Other events keep succeeding (the streak restarts), so only this event gives up.
    now = T0
    offsets = []
    for attempt in range(1, 11):
        decision = POLICY.decide(attempt, failed(now), EndpointHealth(), no_jitter)
        if attempt < 10:
            assert decision.verdict is Verdict.RETRY
            assert decision.next_attempt_at is not None
            now = decision.next_attempt_at
            offsets.append(now - T0)
    assert decision.verdict is Verdict.FAILED
    assert "gave up after 10 attempts" in decision.reason
    assert offsets[:3] == [
        timedelta(seconds=5),
        timedelta(minutes=5, seconds=5),
        timedelta(minutes=35, seconds=5),
    ]
    assert offsets[-1] == timedelta(hours=75, minutes=35, seconds=5)


def test_jitter_only_ever_adds_up_to_ten_percent() -> None:
    low = POLICY.delay_before(5, None, no_jitter)
    high = POLICY.delay_before(5, None, most_jitter)
    assert low == timedelta(hours=2)
    assert timedelta(hours=2) < high < timedelta(hours=2, minutes=12)


@pytest.mark.parametrize(
    ("retry_after_s", "expected"),
    [
        pytest.param(None, timedelta(minutes=5), id="absent-uses-table"),
        pytest.param(60.0, timedelta(minutes=5), id="shorter-than-table-ignored"),
        pytest.param(3600.0, timedelta(hours=1), id="longer-honoured"),
        pytest.param(10 * 86400.0, MAX_RETRY_AFTER, id="capped"),
        pytest.param(-5.0, timedelta(minutes=5), id="negative-ignored"),
    ],
)
def test_retry_after_is_honoured_within_bounds(
    retry_after_s: float | None, expected: timedelta
) -> None:
    decision = POLICY.decide(2, failed(T0, 429, retry_after_s), EndpointHealth(), no_jitter)
    assert decision.verdict is Verdict.RETRY
    assert decision.next_attempt_at == T0 + expected


@pytest.mark.parametrize(
    ("status", "failure", "verdict"),
    [
        pytest.param(500, FailureKind.HTTP_STATUS, Verdict.RETRY, id="500"),
        pytest.param(502, FailureKind.HTTP_STATUS, Verdict.RETRY, id="502"),
        pytest.param(429, FailureKind.HTTP_STATUS, Verdict.RETRY, id="429"),
        pytest.param(408, FailureKind.HTTP_STATUS, Verdict.RETRY, id="408"),
        pytest.param(404, FailureKind.HTTP_STATUS, Verdict.RETRY, id="404-route-not-deployed"),
        pytest.param(401, FailureKind.HTTP_STATUS, Verdict.RETRY, id="401-secret-not-rotated"),
        pytest.param(301, FailureKind.REDIRECT, Verdict.RETRY, id="redirect"),
        pytest.param(None, FailureKind.TIMEOUT, Verdict.RETRY, id="timeout"),
        pytest.param(None, FailureKind.CONNECT, Verdict.RETRY, id="refused"),
        pytest.param(None, FailureKind.DNS, Verdict.RETRY, id="dns"),
        pytest.param(None, FailureKind.UNSAFE_TARGET, Verdict.RETRY, id="rebound-to-private"),
        pytest.param(413, FailureKind.HTTP_STATUS, Verdict.FAILED, id="413-payload"),
        pytest.param(422, FailureKind.HTTP_STATUS, Verdict.FAILED, id="422-payload"),
        pytest.param(410, FailureKind.HTTP_STATUS, Verdict.DISABLE_ENDPOINT, id="410-gone"),
        pytest.param(200, None, Verdict.DELIVERED, id="200"),
        pytest.param(204, None, Verdict.DELIVERED, id="204"),
    ],
)
def test_outcomes(status: int | None, failure: FailureKind | None, verdict: Verdict) -> None:
    result = DeliveryResult(T0, status, 5, failure=failure)
    decision = POLICY.decide(1, result, EndpointHealth(), no_jitter)
    assert decision.verdict is verdict
    assert (decision.next_attempt_at is not None) is (verdict is Verdict.RETRY)


def test_410_disables_at_once_and_says_why() -> None:
    decision = POLICY.decide(1, failed(T0, 410), EndpointHealth(), no_jitter)
    assert decision.verdict is Verdict.DISABLE_ENDPOINT
    assert "410 Gone" in decision.reason


def test_success_clears_the_endpoints_failure_streak() -> None:
    health = EndpointHealth(T0 - timedelta(days=2), 7)
    assert POLICY.decide(3, ok(T0), health, no_jitter).health == EndpointHealth()


def test_prolonged_failure_disables_the_endpoint_with_the_reason() -> None:
    health = EndpointHealth(T0, POLICY.disable_min_failures - 1)
    at = T0 + DISABLE_AFTER
    decision = POLICY.decide(4, failed(at, None), health, no_jitter)
    assert decision.verdict is Verdict.DISABLE_ENDPOINT
    assert decision.health.consecutive_failures == POLICY.disable_min_failures
    assert "consecutive attempts failed since 2026-03-01" in decision.reason
    assert "timeout" in decision.reason


def test_a_quiet_endpoint_is_not_disabled_by_two_failures_days_apart() -> None:
    health = EndpointHealth(T0, 1)
    decision = POLICY.decide(1, failed(T0 + timedelta(days=5)), health, no_jitter)
    assert decision.verdict is Verdict.RETRY
    assert decision.health == EndpointHealth(T0, 2)


def test_a_short_streak_is_not_disabled_however_many_failures() -> None:
    health = EndpointHealth(T0, 500)
    decision = POLICY.decide(
        2, failed(T0 + DISABLE_AFTER - timedelta(seconds=1)), health, no_jitter
    )
    assert decision.verdict is Verdict.RETRY


def test_every_event_that_fails_a_whole_schedule_disables_a_dead_endpoint() -> None:
    now, health = T0, EndpointHealth()
    for attempt in range(1, POLICY.max_attempts + 1):
        decision = POLICY.decide(attempt, failed(now), health, most_jitter)
        health = decision.health
        if decision.next_attempt_at is None:
            break
        now = decision.next_attempt_at
    assert decision.verdict is Verdict.DISABLE_ENDPOINT
    assert attempt == POLICY.max_attempts


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        POLICY.decide(0, ok(T0), EndpointHealth(), no_jitter)
