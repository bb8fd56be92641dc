"""What a policy means for one MX host and one TLS outcome (RFC 8461 §4, §5).

Owns: the per-MX decision (may we connect, what TLS we need) and the verdict on the TLS we got,
including the violation text that names MTA-STS. Pure: it must not open connections, verify
certificates (the transport reports whether the certificate verified for the MX host name) or
fetch policies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from postillon.policy.model import MtaStsMode, MtaStsPolicy
from postillon.policy.mx_match import matches_any, normalize_host


class TlsRequirement(enum.Enum):
    """The TLS a delivery attempt to one MX must reach."""

    # No policy, or mode none: STARTTLS when offered, any certificate, plaintext otherwise.
    OPPORTUNISTIC = "opportunistic"
    # testing: STARTTLS and verify the certificate for the MX name, record failures, deliver anyway.
    VERIFY_AND_REPORT = "verify-and-report"
    # enforce: STARTTLS with a certificate valid for the MX name, or no delivery to this MX.
    VERIFIED_REQUIRED = "verified-required"


@dataclass(frozen=True)
class MxDecision:
    """Whether ``mx_host`` may be contacted, and under which TLS requirement.

    ``mode`` and ``policy_id`` are what every attempt records (None without a policy).
    ``violation`` says why the MX fails the policy: under enforce it is the deferral reason (and
    ``is_allowed`` is False); under testing it is recorded and the delivery proceeds.
    """

    mx_host: str
    is_allowed: bool
    tls: TlsRequirement
    mode: MtaStsMode | None
    policy_id: str | None
    violation: str | None = None


@dataclass(frozen=True)
class TlsVerdict:
    """Whether a delivery may go on over the session as negotiated; ``violation`` names MTA-STS."""

    may_proceed: bool
    violation: str | None = None


def decide_mx(policy: MtaStsPolicy | None, mx_host: str) -> MxDecision:
    """Apply ``policy`` (None: no policy) to one MX host of the policy's own domain.

    enforce: an MX matching no ``mx`` pattern is never contacted (RFC 8461 §5); a matching one
    needs verified TLS. testing: a mismatch is recorded, delivery proceeds, TLS is verified and
    reported. none or no policy: opportunistic TLS.
    """
    host = normalize_host(mx_host)
    if policy is None:
        return MxDecision(host, True, TlsRequirement.OPPORTUNISTIC, None, None)
    if policy.mode is MtaStsMode.NONE:
        return MxDecision(host, True, TlsRequirement.OPPORTUNISTIC, policy.mode, policy.id)
    violation = None
    if not matches_any(policy.mx, host):
        violation = (
            f"MTA-STS {policy.mode.value} (policy id {policy.id}): "
            f"MX {host} does not match the policy of {policy.domain}"
        )
    if policy.mode is MtaStsMode.ENFORCE:
        return MxDecision(
            host,
            violation is None,
            TlsRequirement.VERIFIED_REQUIRED,
            policy.mode,
            policy.id,
            violation,
        )
    return MxDecision(
        host, True, TlsRequirement.VERIFY_AND_REPORT, policy.mode, policy.id, violation
    )


def judge_tls(
    decision: MxDecision, *, tls_used: bool, cert_verified: bool, reason: str | None = None
) -> TlsVerdict:
    """Judge the TLS an attempt negotiated with ``decision.mx_host``.

    ``cert_verified`` means the chain verified and the certificate is valid for the MX host name
    (RFC 8461 §4.2); ``reason`` is the transport's words when it is not. Under enforce, anything
    short of verified TLS stops the attempt before a byte of mail is sent (the recipient is
    deferred with the violation); under testing the violation is recorded and it proceeds.
    """
    if decision.tls is TlsRequirement.OPPORTUNISTIC or (tls_used and cert_verified):
        return TlsVerdict(may_proceed=True)
    if not tls_used:
        problem = "TLS was not negotiated"
    else:
        problem = f"the certificate did not verify for {decision.mx_host}"
    if reason:
        problem += f" ({reason})"
    mode = decision.mode.value if decision.mode else "?"
    violation = f"MTA-STS {mode} (policy id {decision.policy_id}): {problem}"
    return TlsVerdict(
        may_proceed=decision.tls is TlsRequirement.VERIFY_AND_REPORT, violation=violation
    )
