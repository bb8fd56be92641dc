"""One delivery attempt: route a job, walk its MX hosts, send, and report facts per recipient.

Owns the MX walk of RFC 5321 §5 at run time: hosts in the router's order, each address in turn; a
connection failure, a refused greeting or a TLS failure the policy cannot accept means "try the next
one" (docs/contracts.md, "Outcome rules"); the first session that gets through carries the whole
job, split into transactions of at most ``max_rcpts`` recipients, and a "452 too many recipients"
sends the rest in another transaction on the same connection (RFC 5321 §4.5.3.1.10), never a
failure. MTA-STS (RFC 8461 §5): under enforce an MX outside the policy is never contacted and
nothing is sent without verified TLS; under testing violations are recorded and delivery goes on.
DANE (RFC 7672), decided per host in ``tls_policy.py``, comes first: a host whose TLSA lookup failed
is never contacted, and one with usable TLSA records is reached only over TLS whose chain matches
them, whatever its MTA-STS policy says (RFC 8461 §2).

Must not decide what the facts mean (queue/ does) nor touch the store (the engine does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from postillon.clock import Clock
from postillon.delivery.job import DeliveryJob, FactKind, Hop, JobRecipient, RecipientFacts
from postillon.delivery.pool import ConnectionPool, PooledConnection, PoolKey
from postillon.delivery.tls_policy import (
    DaneState,
    TlsaSource,
    dane_state,
    decide_host,
    error_result,
    policy_name,
    policy_strings,
    reached_result,
)
from postillon.dns.errors import DnsPermanentError, DnsTemporaryError
from postillon.dns.mx import Route
from postillon.errors import PermanentError, PostillonError, TlsError
from postillon.policy.decision import MxDecision, TlsRequirement, judge_tls
from postillon.policy.model import MtaStsPolicy
from postillon.smtp.reply import Reply
from postillon.smtp.transaction import TransactionResult
from postillon.transport.tls import Authenticator, TlsInfo, TlsMode

# RFC 3463 codes for the failures we decide ourselves.
_MTA_STS_STATUS = "4.7.5"  # cryptographic failure / policy: deliver later, never in plaintext
_NO_ROUTE_STATUS = "4.4.1"  # no answer from any host


class DeliveryConnection(PooledConnection, Protocol):
    """What an attempt needs from an open SMTP session."""

    @property
    def tls(self) -> TlsInfo:
        """How the session is protected."""
        ...

    @property
    def awaiting_final_reply(self) -> bool:
        """True when the body went out and the reply to the final dot has not come (yet)."""
        ...

    def transcript_text(self) -> str:
        """The session so far (commands and replies, never bodies)."""
        ...

    async def send_transaction(
        self, mail_from: str, rcpt_tos: tuple[str, ...] | list[str], message: bytes
    ) -> TransactionResult:
        """MAIL, RCPTs and the data, pipelined when the server allows."""
        ...


class Router(Protocol):
    """MX routing (postillon.dns.router.MxRouter)."""

    async def route(self, domain: str) -> Route:
        """The hosts to try, best first; raises DnsTemporaryError or DnsPermanentError."""
        ...


class PolicySource(Protocol):
    """MTA-STS policies per recipient domain (postillon.policy.cache.PolicyCache)."""

    async def policy_for(self, domain: str) -> MtaStsPolicy | None:
        """The policy in force for ``domain``, or None."""
        ...

    def problem(self, domain: str) -> str | None:
        """The RFC 8460 result type of the last failed policy fetch for ``domain``, or None."""
        ...


Dialer = Callable[
    [str, str, TlsMode, str | None, Authenticator | None], Awaitable[DeliveryConnection]
]
"""Opens a session: (IP address, MX host name for certificate checks, TLS mode, source
address to bind or None, the DANE authenticator in TlsMode.DANE or None)."""


@dataclass(frozen=True)
class _Failure:
    """Why the last host could not take the job; what every recipient gets if none can."""

    kind: FactKind
    is_transient: bool
    code: int | None
    enhanced: str | None
    text: str
    hop: Hop


class Attempt:
    """Delivers jobs over pooled connections; one instance serves the whole engine."""

    def __init__(
        self,
        *,
        router: Router,
        policies: PolicySource | None,
        pool: ConnectionPool[DeliveryConnection],
        dialer: Dialer,
        clock: Clock,
        max_rcpts: int,
        source_address: Callable[[], str | None] = lambda: None,
        tlsa: TlsaSource | None = None,
    ) -> None:
        self._router = router
        self._policies = policies
        self._pool = pool
        self._dialer = dialer
        self._clock = clock
        self._max_rcpts = max_rcpts
        self._source_address = source_address
        self._tlsa = tlsa

    async def run(self, job: DeliveryJob) -> list[RecipientFacts]:
        """Try to deliver ``job``; one fact per recipient, in the job's order. Never raises
        for delivery problems: they are facts."""
        started = self._clock.monotonic()
        try:
            route = await self._router.route(job.domain)
        except (DnsPermanentError, DnsTemporaryError) as error:
            failure = _Failure(
                FactKind.DNS,
                error.is_transient,
                error.reply_code,
                error.enhanced_status,
                str(error),
                Hop(),
            )
            return self._all(job.recipients, failure, started)
        policy = await self._policies.policy_for(job.domain) if self._policies else None
        last = _Failure(FactKind.CONNECT, True, None, _NO_ROUTE_STATUS, "no MX host", Hop())
        refused: list[Hop] = []  # hosts refused on TLS grounds, each a session to report
        # A policy that could not be fetched is reported on the sessions that went on without
        # it (RFC 8460 §4.3.2.2), unless DANE decided the host.
        sts_problem = self._policies.problem(job.domain) if self._policies and not policy else None
        for host in route.hosts:
            dane = await dane_state(self._tlsa, host)
            decision = decide_host(policy, host, dane)
            hop = Hop(
                mx_host=host.name,
                mta_sts_mode=decision.mode.value if decision.mode else None,
                mta_sts_policy_id=decision.policy_id,
                tls_policy=policy_name(decision, dane),
                tls_policy_strings=policy_strings(policy, dane),
                tls_result=None if dane is not None and dane.is_dane else sts_problem,
            )
            if dane is not None and dane.failure is not None:
                # RFC 7672 §2.2: a TLSA lookup that failed (bogus, SERVFAIL) makes the host
                # unusable; nothing is sent to it, not even a SYN.
                hop = replace(hop, tls_refusal=dane.failure, tls_result="dnssec-invalid")
                last = _Failure(FactKind.POLICY, True, None, _MTA_STS_STATUS, dane.failure, hop)
                refused.append(hop)
                continue
            if not decision.is_allowed:
                # RFC 8461 §5: an MX that does not match an enforced policy is never contacted.
                violation = str(decision.violation)
                hop = replace(hop, tls_refusal=violation, tls_result="validation-failure")
                last = _Failure(FactKind.POLICY, True, None, _MTA_STS_STATUS, violation, hop)
                refused.append(hop)
                continue
            for ip in host.addresses:
                outcome = await self._try_address(
                    job, decision, host.name, ip, replace(hop, ip=ip), started, dane
                )
                if isinstance(outcome, _Failure):
                    last = outcome
                    if outcome.kind is FactKind.POLICY:
                        refused.append(outcome.hop)
                    continue
                return _with_earlier(outcome, refused)
        earlier = refused[:-1] if refused and refused[-1] is last.hop else refused
        return _with_earlier(self._all(job.recipients, last, started), earlier)

    async def _try_address(  # noqa: PLR0917
        self,
        job: DeliveryJob,
        decision: MxDecision,
        mx_host: str,
        ip: str,
        hop: Hop,
        started: float,
        dane: DaneState | None = None,
    ) -> list[RecipientFacts] | _Failure:
        is_verified_required = decision.tls is TlsRequirement.VERIFIED_REQUIRED
        tls_mode = TlsMode.VERIFIED if is_verified_required else TlsMode.OPPORTUNISTIC
        authenticator = None
        if dane is not None and (dane.is_dane or not is_verified_required):
            tls_mode, authenticator = TlsMode.DANE, dane.authenticator
        source = self._source_address()
        # DANE sessions are pooled apart: a session opened for a domain whose MX RRset is not
        # signed (no DANE) must never carry mail that DANE protects, though the host is the same.
        pooled_as = f"{mx_host} (dane)" if tls_mode is TlsMode.DANE else mx_host
        key = PoolKey(pooled_as, ip, source)
        try:
            conn, uses = await self._pool.acquire(
                key, lambda: self._dialer(ip, mx_host, tls_mode, source, authenticator)
            )
        except PostillonError as error:
            is_tls_required = is_verified_required or tls_mode is TlsMode.DANE
            is_policy = is_tls_required and isinstance(error, TlsError)
            kind = FactKind.POLICY if is_policy else FactKind.CONNECT
            text = str(error)
            if is_policy and tls_mode is TlsMode.DANE and dane is not None:
                text = f"DANE (TLSA at {dane.tlsa_name}): {text}"
            elif is_policy:
                text = f"MTA-STS enforce (policy id {decision.policy_id}): {text}"
            if is_policy:
                hop = replace(hop, tls_refusal=text, tls_result=error_result(error).value)
            code, enhanced = _reply_codes(error)
            status = _MTA_STS_STATUS if is_policy else _NO_ROUTE_STATUS
            return _Failure(kind, True, code, enhanced or status, text, hop)
        hop = replace(hop, tls=conn.tls, dane_tlsa=conn.tls.dane_tlsa)
        verdict = judge_tls(
            decision,
            tls_used=conn.tls.used,
            cert_verified=conn.tls.verified,
            reason=conn.tls.reason,
        )
        found = reached_result(decision, verdict.violation, conn.tls)
        hop = replace(hop, tls_result=found or hop.tls_result)
        if not verdict.may_proceed:
            await self._pool.discard(conn)
            hop = replace(hop, tls_refusal=str(verdict.violation))
            return _Failure(
                FactKind.POLICY, True, None, _MTA_STS_STATUS, str(verdict.violation), hop
            )
        # Under testing both are recorded (RFC 8461 §5): an MX outside the policy and TLS
        # short of verified; under enforce the first is never set for a host we reached.
        violations = [v for v in (decision.violation, verdict.violation) if v]
        hop = replace(hop, tls_policy_violation="; ".join(violations) or None)
        return await self._transact(
            job=job, key=key, conn=conn, uses=uses, hop=hop, started=started
        )

    async def _transact(
        self,
        *,
        job: DeliveryJob,
        key: PoolKey,
        conn: DeliveryConnection,
        uses: int,
        hop: Hop,
        started: float,
    ) -> list[RecipientFacts]:
        facts: dict[str, RecipientFacts] = {}
        remaining = list(job.recipients)
        while remaining:
            batch, remaining = remaining[: self._max_rcpts], remaining[self._max_rcpts :]
            try:
                result = await conn.send_transaction(
                    job.mail_from, [r.address for r in batch], job.body
                )
            except PermanentError as error:
                # Refused before anything was sent (size, 8BITMIME, SMTPUTF8): bounce the batch
                # with the status the unmet need implies (5.3.4 too big, 5.6.3, 5.6.7).
                enhanced = getattr(error, "enhanced", "5.6.0")
                code = 552 if enhanced == "5.3.4" else 554
                failure = _Failure(FactKind.MESSAGE, False, code, enhanced, str(error), hop)
                facts.update(self._each(batch, failure, started))
                continue
            except PostillonError as error:
                is_dot_lost = conn.awaiting_final_reply
                hop = replace(hop, transcript=conn.transcript_text())
                await self._pool.discard(conn)
                kind = FactKind.NO_FINAL_REPLY if is_dot_lost else FactKind.PROTOCOL
                failure = _Failure(kind, True, None, "4.4.2", str(error), hop)
                for fact in self._each(batch + remaining, failure, started).values():
                    facts[fact.recipient.recipient_id] = replace(
                        fact, possible_duplicate=is_dot_lost
                    )
                return [facts[r.recipient_id] for r in job.recipients]
            uses += 1
            hop_now = replace(hop, transcript=conn.transcript_text())
            split = _too_many_recipients(batch, result)
            for recipient in batch:
                if recipient in split:
                    continue
                reply = result.reply_for(recipient.address)
                facts[recipient.recipient_id] = self._from_reply(recipient, reply, hop_now, started)
            remaining = split + remaining
            if not conn.is_usable and remaining:
                failure = _Failure(
                    FactKind.PROTOCOL, True, None, "4.4.2", "connection closed", hop_now
                )
                facts.update(self._each(remaining, failure, started))
                remaining = []
        await self._pool.release(key, conn, uses)
        return [facts[r.recipient_id] for r in job.recipients]

    def _from_reply(
        self, recipient: JobRecipient, reply: Reply, hop: Hop, started: float
    ) -> RecipientFacts:
        return RecipientFacts(
            recipient=recipient,
            kind=FactKind.REPLY,
            is_transient=not reply.is_permanent,
            code=reply.code,
            enhanced=str(reply.enhanced) if reply.enhanced else None,
            text=reply.text,
            hop=hop,
            duration_ms=self._elapsed_ms(started),
        )

    def _each(
        self, recipients: Sequence[JobRecipient], failure: _Failure, started: float
    ) -> dict[str, RecipientFacts]:
        return {
            r.recipient_id: RecipientFacts(
                recipient=r,
                kind=failure.kind,
                is_transient=failure.is_transient,
                code=failure.code,
                enhanced=failure.enhanced,
                text=failure.text,
                hop=failure.hop,
                duration_ms=self._elapsed_ms(started),
            )
            for r in recipients
        }

    def _all(
        self, recipients: Sequence[JobRecipient], failure: _Failure, started: float
    ) -> list[RecipientFacts]:
        return list(self._each(recipients, failure, started).values())

    def _elapsed_ms(self, started: float) -> int:
        return int((self._clock.monotonic() - started) * 1000)


def _with_earlier(facts: list[RecipientFacts], hops: list[Hop]) -> list[RecipientFacts]:
    if not hops:
        return facts
    return [replace(fact, earlier_hops=tuple(hops)) for fact in facts]


def _reply_codes(error: PostillonError) -> tuple[int | None, str | None]:
    reply = getattr(error, "reply", None)
    if isinstance(reply, Reply):
        return reply.code, str(reply.enhanced) if reply.enhanced else None
    return None, None


def _too_many_recipients(
    batch: Sequence[JobRecipient], result: TransactionResult
) -> list[JobRecipient]:
    """Recipients refused only because the transaction had too many (RFC 5321 §4.5.3.1.10).

    They go in the next transaction, but only if this one took somebody: a server that takes
    nobody is not asking us to split, and those recipients are deferred as usual.
    """
    if not result.is_mail_accepted or not result.delivered:
        return []
    refused = {r.rcpt_to: r.reply for r in result.recipients if not r.is_accepted}
    return [
        recipient
        for recipient in batch
        if recipient.address in refused and _is_too_many(refused[recipient.address])
    ]


def _is_too_many(reply: Reply) -> bool:
    enhanced = str(reply.enhanced) if reply.enhanced else ""
    return reply.code in (452, 552) and (
        enhanced.endswith(".5.3") or "too many recipients" in reply.text.lower()
    )
