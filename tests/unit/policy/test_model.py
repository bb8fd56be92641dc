"""Policy lifetime: expiry at max_age (never past one week) and refresh at half-life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postillon.policy.model import MAX_POLICY_LIFETIME_S, MtaStsMode, MtaStsPolicy

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _policy(max_age_s: int) -> MtaStsPolicy:
    return MtaStsPolicy(
        "example.com", "id1", MtaStsMode.ENFORCE, ("mx.example.com",), max_age_s, AT
    )


@pytest.mark.parametrize(
    ("max_age_s", "lifetime_s"),
    [
        pytest.param(0, 0, id="zero"),
        pytest.param(3600, 3600, id="hour"),
        pytest.param(MAX_POLICY_LIFETIME_S, MAX_POLICY_LIFETIME_S, id="week"),
        # A stored policy from elsewhere could carry more; the week still bounds it.
        pytest.param(31_557_600, MAX_POLICY_LIFETIME_S, id="year-capped"),
        pytest.param(-5, 0, id="negative-is-expired"),
    ],
)
def test_lifetime_is_max_age_capped_at_one_week(max_age_s: int, lifetime_s: int) -> None:
    policy = _policy(max_age_s)
    assert policy.lifetime_s == lifetime_s
    assert policy.expires_at == AT + timedelta(seconds=lifetime_s)


def test_expiry_and_refresh_times() -> None:
    policy = _policy(86400)
    assert not policy.is_expired(AT + timedelta(seconds=86399))
    assert policy.is_expired(AT + timedelta(seconds=86400))
    assert not policy.is_due_refresh(AT + timedelta(seconds=43199))
    assert policy.is_due_refresh(AT + timedelta(seconds=43200))


def test_a_policy_is_frozen() -> None:
    policy = _policy(60)
    with pytest.raises(AttributeError):
        policy.mode = MtaStsMode.NONE  # type: ignore[misc]
