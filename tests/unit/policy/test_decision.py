"""Applying a policy to one MX (RFC 8461 §5) and judging the TLS an attempt got."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.policy.decision import MxDecision, TlsRequirement, decide_mx, judge_tls
from postillon.policy.model import MtaStsMode, MtaStsPolicy

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _policy(mode: MtaStsMode) -> MtaStsPolicy:
    return MtaStsPolicy("example.com", "pid7", mode, ("mx.example.com", "*.b.example.net"), 600, AT)


ENFORCE = _policy(MtaStsMode.ENFORCE)
TESTING = _policy(MtaStsMode.TESTING)
NONE = _policy(MtaStsMode.NONE)


@pytest.mark.parametrize(
    ("policy", "host", "allowed", "tls", "has_violation"),
    [
        pytest.param(
            None, "any.example", True, TlsRequirement.OPPORTUNISTIC, False, id="no-policy"
        ),
        pytest.param(NONE, "any.example", True, TlsRequirement.OPPORTUNISTIC, False, id="none"),
        pytest.param(
            ENFORCE,
            "MX.example.com.",
            True,
            TlsRequirement.VERIFIED_REQUIRED,
            False,
            id="enforce-match",
        ),
        pytest.param(
            ENFORCE,
            "x.b.example.net",
            True,
            TlsRequirement.VERIFIED_REQUIRED,
            False,
            id="enforce-wildcard",
        ),
        pytest.param(
            ENFORCE,
            "y.x.b.example.net",
            False,
            TlsRequirement.VERIFIED_REQUIRED,
            True,
            id="enforce-wildcard-too-deep",
        ),
        pytest.param(
            ENFORCE,
            "evil.example",
            False,
            TlsRequirement.VERIFIED_REQUIRED,
            True,
            id="enforce-mismatch",
        ),
        pytest.param(
            TESTING,
            "mx.example.com",
            True,
            TlsRequirement.VERIFY_AND_REPORT,
            False,
            id="testing-match",
        ),
        pytest.param(
            TESTING,
            "evil.example",
            True,
            TlsRequirement.VERIFY_AND_REPORT,
            True,
            id="testing-mismatch-proceeds",
        ),
    ],
)
def test_decide_mx(
    policy: MtaStsPolicy | None, host: str, allowed: bool, tls: TlsRequirement, has_violation: bool
) -> None:
    decision = decide_mx(policy, host)
    assert (decision.is_allowed, decision.tls) == (allowed, tls)
    assert (decision.mode, decision.policy_id) == (
        (policy.mode, policy.id) if policy else (None, None)
    )
    assert (decision.violation is not None) is has_violation
    if decision.violation:
        assert decision.violation.startswith(
            f"MTA-STS {decision.mode.value if decision.mode else ''}"
        )
        assert "pid7" in decision.violation
        assert host.lower() in decision.violation


@pytest.mark.parametrize(
    ("decision", "tls_used", "verified", "proceeds", "violation_part"),
    [
        pytest.param(decide_mx(None, "mx.a"), False, False, True, None, id="no-policy-plaintext"),
        pytest.param(decide_mx(NONE, "mx.a"), True, False, True, None, id="none-unverified"),
        pytest.param(
            decide_mx(ENFORCE, "mx.example.com"), True, True, True, None, id="enforce-verified"
        ),
        pytest.param(
            decide_mx(ENFORCE, "mx.example.com"),
            True,
            False,
            False,
            "did not verify",
            id="enforce-bad-cert-stops",
        ),
        pytest.param(
            decide_mx(ENFORCE, "mx.example.com"),
            False,
            False,
            False,
            "not negotiated",
            id="enforce-plaintext-stops",
        ),
        pytest.param(
            decide_mx(TESTING, "mx.example.com"),
            True,
            False,
            True,
            "did not verify",
            id="testing-bad-cert-proceeds",
        ),
        pytest.param(
            decide_mx(TESTING, "mx.example.com"),
            False,
            False,
            True,
            "not negotiated",
            id="testing-plaintext-proceeds",
        ),
        pytest.param(
            decide_mx(TESTING, "mx.example.com"), True, True, True, None, id="testing-verified"
        ),
    ],
)
def test_judge_tls(
    decision: MxDecision, tls_used: bool, verified: bool, proceeds: bool, violation_part: str | None
) -> None:
    verdict = judge_tls(decision, tls_used=tls_used, cert_verified=verified, reason="expired")
    assert verdict.may_proceed is proceeds
    if violation_part is None:
        assert verdict.violation is None
    else:
        assert verdict.violation is not None
        assert verdict.violation.startswith("MTA-STS ")
        assert violation_part in verdict.violation
        assert "(expired)" in verdict.violation
