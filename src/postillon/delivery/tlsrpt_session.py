"""The TLS-RPT view of one attempt: which session to count, under which policy, with what result.

Owns turning a job's facts into the :class:`TlsRptSession` values to count: every host refused
on TLS grounds on the way, then the session the attempt ended on (a session carries the whole
job, so each is counted once, not per recipient): the UTC day it started, the recipient domain
as policy domain, the policy type (``tlsa`` under DANE, ``sts`` under MTA-STS enforce or
testing, ``no-policy-found`` otherwise, RFC 8460 §4.4) and the result type the attempt found. An
attempt that never reached a TLS decision (DNS failure, no host answered) is not a session and
is not counted. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from postillon.delivery.job import Hop, RecipientFacts
from postillon.delivery.tls_policy import TlsPolicy
from postillon.policy.tlsrpt import PolicyType
from postillon.storage.records import TlsRptSession

_POLICY_TYPES = {
    TlsPolicy.DANE.value: PolicyType.TLSA,
    TlsPolicy.MTA_STS_ENFORCE.value: PolicyType.STS,
    TlsPolicy.MTA_STS_TESTING.value: PolicyType.STS,
}


def sessions_of(
    domain: str, facts: Sequence[RecipientFacts], started_at: datetime
) -> tuple[TlsRptSession, ...]:
    """The sessions the job's attempt ran, in order; () when there were none to report."""
    if not facts:
        return ()
    hops = (*facts[0].earlier_hops, facts[0].hop)
    found = (_session(domain, hop, started_at) for hop in hops)
    return tuple(session for session in found if session is not None)


def _session(domain: str, hop: Hop, started_at: datetime) -> TlsRptSession | None:
    if hop.mx_host is None or (hop.tls is None and hop.tls_refusal is None):
        return None
    policy_type = _POLICY_TYPES.get(hop.tls_policy or "", PolicyType.NO_POLICY)
    if (hop.tls_result or "").startswith("sts-"):
        policy_type = PolicyType.STS  # a policy was announced but could not be used
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
