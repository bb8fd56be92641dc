"""Which transport-security policy applies to one MX host: DANE, MTA-STS or opportunistic TLS.

Owns the precedence the attempt follows and records: DANE (usable TLSA records on a secure MX
host) over MTA-STS enforce, over testing, over opportunistic (RFC 8461 §2: "DANE takes
precedence"), and the DANE half of it (RFC 7672 §2.2): the TLSA lookup at ``_25._tcp.<host>``
only for a host whose MX RRset and addresses DNSSEC validated; a failed lookup (SERVFAIL,
which is how a validating resolver reports a bogus answer, or a timeout) makes the host unusable
without connecting; a secure RRset with usable records makes authenticated TLS mandatory
(TlsMode.DANE with an authenticator); one with only unusable records still makes TLS mandatory
without authentication (RFC 7672 §2.2, Postfix's "encrypt"); an insecure or absent RRset leaves
the host to MTA-STS or opportunistic TLS. Also what TLS reporting calls each outcome: the
policy strings and the RFC 8460 result type of a refused or non-compliant session. Must not
open connections or judge replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from postillon.dns.mx import MxHost
from postillon.dns.records import Answer, Status, TlsaRecord
from postillon.errors import PostillonError
from postillon.policy.dane import TlsaRecord as Tlsa
from postillon.policy.dane import authenticate, classify
from postillon.policy.decision import MxDecision, TlsRequirement, decide_mx
from postillon.policy.model import MtaStsMode, MtaStsPolicy
from postillon.policy.tlsrpt import ResultType, certificate_result, sts_policy_strings
from postillon.transport.errors import DaneAuthenticationError, TlsRequiredError
from postillon.transport.tls import Authenticator, PeerCheck, TlsInfo

# RFC 7672 §2.2.3: the TLSA base domain of an SMTP server on port 25 over TCP.
SMTP_TLSA_PREFIX = "_25._tcp."


class TlsPolicy(StrEnum):
    """The policy recorded per attempt (the attempt row, the API, events, the dashboard)."""

    DANE = "dane"
    MTA_STS_ENFORCE = "mta-sts-enforce"
    MTA_STS_TESTING = "mta-sts-testing"
    OPPORTUNISTIC = "opportunistic"


class TlsaSource(Protocol):
    """TLSA lookups (postillon.dns.resolver.Resolver)."""

    async def lookup_tlsa(self, name: str) -> Answer[TlsaRecord]:
        """The TLSA RRset at ``name``, with its DNSSEC status."""
        ...


@dataclass(frozen=True)
class DaneState:
    """What DANE asks of one MX host.

    ``failure`` set: do not connect (the TLSA lookup failed). ``authenticator`` set: TLS with a
    chain matching a usable record. ``is_tls_required`` without an authenticator: the records
    are all unusable, so TLS is mandatory but unauthenticated.
    """

    tlsa_name: str
    failure: str | None = None
    authenticator: Authenticator | None = None
    is_tls_required: bool = False
    records: tuple[str, ...] = ()  # the RRset in presentation form, for TLS reports

    @property
    def is_dane(self) -> bool:
        """True when DANE decides this host (usable records): MTA-STS does not apply."""
        return self.authenticator is not None


def tlsa_name(host: str) -> str:
    """``_25._tcp.<host>``."""
    return SMTP_TLSA_PREFIX + host


def _authenticator(records: Sequence[Tlsa], names: Sequence[str]) -> Authenticator:
    def check(chain_der: Sequence[bytes], now: datetime) -> PeerCheck:
        result = authenticate(chain_der, records, names, now)
        if result.label is not None:
            return PeerCheck(True, result.label)
        return PeerCheck(False, result.failure or "no TLSA record matched")

    return check


async def dane_state(source: TlsaSource | None, host: MxHost) -> DaneState | None:
    """The DANE requirement for ``host``; None when DANE does not apply to it.

    RFC 7672 §2.2.2: when the host's addresses came through a (secure) CNAME, the TLSA records
    are looked up first at the expanded name, then at the MX host name.
    """
    if source is None or not host.is_secure:
        return None
    bases = dict.fromkeys(n for n in (host.canonical_name, host.name) if n)
    for base in bases:
        name = tlsa_name(base)
        answer = await source.lookup_tlsa(name)
        if answer.status is Status.FAILED:
            return DaneState(name, failure=f"DANE: TLSA lookup of {name} failed: {answer.reason}")
        if answer.status is Status.FOUND and answer.is_secure and answer.records:
            return _from_records(name, answer.records, host)
    return None


def _from_records(name: str, found: Sequence[TlsaRecord], host: MxHost) -> DaneState:
    texts = tuple(str(record) for record in found)
    records = classify(found)
    if not records.usable:
        return DaneState(name, is_tls_required=True, records=texts)
    # RFC 7672 §3.2.2: DANE-TA names are the MX host and, when the address lookup followed a
    # secure CNAME, its target.
    names = tuple(dict.fromkeys(n for n in (host.name, host.canonical_name) if n))
    return DaneState(
        name,
        authenticator=_authenticator(records.usable, names),
        is_tls_required=True,
        records=texts,
    )


def policy_strings(policy: MtaStsPolicy | None, dane: DaneState | None) -> tuple[str, ...]:
    """What a TLS report names as the policy applied to a host (RFC 8460 §4.4)."""
    if dane is not None and (dane.is_dane or dane.failure is not None):
        return dane.records
    if policy is not None and policy.mode is not MtaStsMode.NONE:
        return sts_policy_strings(policy)
    return ()


def error_result(error: PostillonError) -> ResultType:
    """The RFC 8460 result type of a session that failed while setting up TLS."""
    if isinstance(error, TlsRequiredError):
        return ResultType.STARTTLS_NOT_SUPPORTED
    if isinstance(error, DaneAuthenticationError):
        return ResultType.TLSA_INVALID
    return certificate_result(str(error))


def session_result(*, tls_used: bool, verified: bool, reason: str | None) -> ResultType | None:
    """The result type of a session we judged (None: compliant)."""
    if not tls_used:
        return ResultType.STARTTLS_NOT_SUPPORTED
    if verified:
        return None
    return certificate_result(reason)


def decide_host(policy: MtaStsPolicy | None, host: MxHost, dane: DaneState | None) -> MxDecision:
    """The MTA-STS decision, unless DANE decides the host (RFC 8461 §2): then MTA-STS is not
    applied at all, neither its MX patterns nor its WebPKI check."""
    if dane is not None and dane.is_dane:
        return decide_mx(None, host.name)
    return decide_mx(policy, host.name)


def policy_name(decision: MxDecision, dane: DaneState | None) -> str:
    """The :class:`TlsPolicy` an attempt records for a host (a failed TLSA lookup is DANE's)."""
    if dane is not None and (dane.is_dane or dane.failure is not None):
        return TlsPolicy.DANE.value
    if decision.mode is MtaStsMode.ENFORCE:
        return TlsPolicy.MTA_STS_ENFORCE.value
    if decision.mode is MtaStsMode.TESTING:
        return TlsPolicy.MTA_STS_TESTING.value
    return TlsPolicy.OPPORTUNISTIC.value


def reached_result(decision: MxDecision, violation: str | None, tls: TlsInfo) -> str | None:
    """The RFC 8460 result type of a session we reached (None: it complied)."""
    if violation or (decision.tls is TlsRequirement.OPPORTUNISTIC and not tls.used):
        found = session_result(tls_used=tls.used, verified=tls.verified, reason=tls.reason)
        return found.value if found else None
    if decision.violation:
        return "validation-failure"  # testing: an MX outside the policy, reported
    return None
