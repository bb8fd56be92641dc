"""The TLS-RPT view of one attempt: which session to count, under which policy, with what result.

Owns turning a job's facts into at most one :class:`TlsRptSession` (a session carries the whole
job, so it is counted once): the UTC day it started, the recipient domain as policy domain, the
policy type (``tlsa`` under DANE, ``sts`` under MTA-STS enforce or testing, ``no-policy-found``
otherwise, RFC 8460 §4.4) and the result type the attempt found. An attempt that never reached
a TLS decision (DNS failure, no host answered) is not a session and is not counted. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from postillon.delivery.job import RecipientFacts
from postillon.delivery.tls_policy import TlsPolicy
from postillon.policy.tlsrpt import PolicyType
from postillon.storage.records import TlsRptSession

_POLICY_TYPES = {
    TlsPolicy.DANE.value: PolicyType.TLSA,
    TlsPolicy.MTA_STS_ENFORCE.value: PolicyType.STS,
    TlsPolicy.MTA_STS_TESTING.value: PolicyType.STS,
}


def session_of(
    domain: str, facts: Sequence[RecipientFacts], started_at: datetime
) -> TlsRptSession | None:
    """The session the job's attempt ran, or None when there was none to report."""
    if not facts:
        return None
    hop = facts[0].hop
    if hop.mx_host is None or (hop.tls is None and hop.tls_result is None):
        return None
    policy_type = _POLICY_TYPES.get(hop.tls_policy or "", PolicyType.NO_POLICY)
    return TlsRptSession(
        day=started_at.astimezone(UTC).date().isoformat(),
        policy_domain=domain,
        policy_type=policy_type.value,
        policy_strings=hop.tls_policy_strings,
        mx_host=hop.mx_host,
        result_type=hop.tls_result or "",
        # Failure details name the receiving IP (RFC 8460 §4.4); successes are only summed.
        receiving_ip=(hop.ip or "") if hop.tls_result else "",
    )
