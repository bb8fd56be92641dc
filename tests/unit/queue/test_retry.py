"""The retry schedule: exponential, capped, jittered within bounds, expiring at the lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.config.settings import RetrySettings
from postillon.queue.retry import backoff_s, expires_at, next_attempt

DEFAULTS = RetrySettings()
CREATED = datetime(2026, 1, 1, tzinfo=UTC)

settings_strategy = st.builds(
    RetrySettings,
    base_s=st.floats(min_value=1, max_value=3600),
    cap_s=st.floats(min_value=1, max_value=86400),
    jitter=st.floats(min_value=0, max_value=0.99),
    max_lifetime_s=st.floats(min_value=60, max_value=30 * 86400),
)
unit = st.floats(min_value=0, max_value=1, exclude_max=True)


@given(settings=settings_strategy, attempts=st.integers(min_value=1, max_value=500))
def test_backoff_never_shrinks_as_attempts_grow(settings: RetrySettings, attempts: int) -> None:
    assert backoff_s(attempts, settings) <= backoff_s(attempts + 1, settings)


@given(
    settings=settings_strategy,
    attempts=st.integers(min_value=1, max_value=10_000),
    draw=unit,
    age_s=st.floats(min_value=0, max_value=40 * 86400),
)
def test_next_attempt_is_after_now_within_cap_with_jitter_and_never_past_the_deadline(
    settings: RetrySettings, attempts: int, draw: float, age_s: float
) -> None:
    now = CREATED + timedelta(seconds=age_s)

    decision = next_attempt(
        created_at=CREATED, attempts=attempts, now=now, settings=settings, random=lambda: draw
    )

    if now >= expires_at(CREATED, settings):
        assert decision.is_expired
        return
    assert decision.next_attempt_at is not None
    delay_s = (decision.next_attempt_at - now).total_seconds()
    assert 0 < delay_s <= settings.cap_s * (1 + settings.jitter) + 1e-6
    assert decision.next_attempt_at <= expires_at(CREATED, settings)


@given(settings=settings_strategy, attempts=st.integers(min_value=1, max_value=100), draw=unit)
def test_a_message_older_than_its_lifetime_expires(
    settings: RetrySettings, attempts: int, draw: float
) -> None:
    now = CREATED + timedelta(seconds=settings.max_lifetime_s)

    decision = next_attempt(
        created_at=CREATED, attempts=attempts, now=now, settings=settings, random=lambda: draw
    )

    assert decision.is_expired


@pytest.mark.parametrize(
    ("attempts", "expected_s"),
    [
        pytest.param(1, 300, id="first-retry-5min"),
        pytest.param(2, 600, id="doubles"),
        pytest.param(5, 4800, id="80min"),
        pytest.param(7, 14400, id="capped-at-4h"),
        pytest.param(10_000, 14400, id="no-overflow"),
    ],
)
def test_default_backoff_without_jitter(attempts: int, expected_s: float) -> None:
    assert backoff_s(attempts, DEFAULTS) == expected_s


def test_jitter_spreads_around_the_backoff() -> None:
    def at(draw: float) -> float:
        decision = next_attempt(
            created_at=CREATED, attempts=1, now=CREATED, settings=DEFAULTS, random=lambda: draw
        )
        assert decision.next_attempt_at is not None
        return (decision.next_attempt_at - CREATED).total_seconds()

    assert at(0.0) == pytest.approx(240)
    assert at(0.5) == pytest.approx(300)
    assert at(0.999999) == pytest.approx(360, rel=1e-4)


def test_the_last_retry_is_moved_onto_the_deadline() -> None:
    now = expires_at(CREATED, DEFAULTS) - timedelta(minutes=10)

    decision = next_attempt(
        created_at=CREATED, attempts=30, now=now, settings=DEFAULTS, random=lambda: 0.5
    )

    assert decision.next_attempt_at == expires_at(CREATED, DEFAULTS)


def test_backoff_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        backoff_s(0, DEFAULTS)
