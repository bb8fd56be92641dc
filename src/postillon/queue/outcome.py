"""Outcome rules: what one SMTP reply or one failure means for a recipient. The only place.

Owns the "Outcome rules" of docs/contracts.md: 2xx delivered; 4xx deferred; 5xx bounced, except the
5xx that mean "try later" (RFC 5321 §4.5.3.1.10: 552 used for "too many recipients" as old servers
do, X.5.3, and rate or frequency limits recognised by code and text), which are deferred; a 4xx or
5xx greeting, a refused EHLO, a connection or TLS failure mean "try the next MX"; NXDOMAIN and null
MX are permanent, SERVFAIL and timeouts temporary; no reply to the final dot is deferred and flagged
as a possible duplicate (RFC 5321 §6.1: the server may already have taken the message).

Inputs are small frozen facts defined here, so the queue does not depend on the SMTP client.
It must not do I/O, read the clock, or schedule the next attempt (see :mod:`.retry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from postillon.queue.bounce import BounceClass, classify_bounce
from postillon.queue.status import RecipientStatus

# RFC 5321 §4.5.3.1.10: "too many recipients" is 452, but some servers answer 552.
_TOO_MANY_RECIPIENTS_CODES = frozenset({452, 552})
_TOO_MANY_RECIPIENTS_STATUS = "5.3"  # RFC 3463 X.5.3


class Outcome(StrEnum):
    """What a reply or failure means for the recipients it concerns."""

    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    TRY_NEXT_MX = "try_next_mx"  # this host is no good now; another MX may be (else: deferred)

    @property
    def status(self) -> RecipientStatus:
        """The recipient status this outcome leads to (TRY_NEXT_MX with no MX left: deferred).

        A DEFERRED recipient may still become EXPIRED: :func:`postillon.queue.retry.next_attempt`
        decides that from the message's age.
        """
        return {
            Outcome.DELIVERED: RecipientStatus.DELIVERED,
            Outcome.DEFERRED: RecipientStatus.DEFERRED,
            Outcome.BOUNCED: RecipientStatus.BOUNCED,
            Outcome.TRY_NEXT_MX: RecipientStatus.DEFERRED,
        }[self]


class ReplyPhase(StrEnum):
    """Where in the session a reply came."""

    GREETING = "greeting"  # the 220 banner (RFC 5321 §4.3.1)
    SESSION = "session"  # EHLO/HELO, STARTTLS: about the connection, not the mail
    TRANSACTION = "transaction"  # MAIL, RCPT, DATA, the final dot: about this mail


class FailureKind(StrEnum):
    """A failure that is not a reply (values match the delivery engine's fact kinds)."""

    DNS = "dns"  # routing: NXDOMAIN, null MX, loop (permanent); SERVFAIL, timeout (temporary)
    CONNECT = "connect"  # the host could not be reached or dropped us before greeting
    TLS = "tls"  # the handshake or the verification the policy needs failed
    POLICY = "policy"  # MTA-STS forbade every MX host (RFC 8461 §5: treat as temporary)
    PROTOCOL = "protocol"  # the session broke midway: lost connection, timeout, garbage
    NO_FINAL_REPLY = "no_final_reply"  # data sent, the reply to the final dot never came
    MESSAGE = "message"  # this message cannot go to this server (size, 8BITMIME, SMTPUTF8)


@dataclass(frozen=True)
class ReplyFacts:
    """The decisive SMTP reply for a recipient: code, RFC 3463 enhanced code (or None), text."""

    code: int
    enhanced: str | None
    text: str
    phase: ReplyPhase = ReplyPhase.TRANSACTION


@dataclass(frozen=True)
class FailureFacts:
    """A failure without a usable reply; ``code``/``enhanced`` when the failure implies them."""

    kind: FailureKind
    is_transient: bool
    text: str
    code: int | None = None
    enhanced: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The decision: the outcome, why (class), and whether the mail may have arrived already."""

    outcome: Outcome
    bounce_class: BounceClass | None = None
    possible_duplicate: bool = False

    @property
    def suppresses(self) -> bool:
        """True when the address should join the account's suppression list."""
        return (
            self.outcome is Outcome.BOUNCED
            and self.bounce_class is not None
            and self.bounce_class.suppresses
        )


def is_try_later(code: int, enhanced: str | None, text: str) -> bool:
    """Whether a 5xx reply really means "too many / too fast, try later"."""
    if _is_too_many_recipients(code, enhanced, text):
        return True
    return classify_bounce(enhanced, text) is BounceClass.RATE_LIMIT


def _is_too_many_recipients(code: int, enhanced: str | None, text: str) -> bool:
    if code not in _TOO_MANY_RECIPIENTS_CODES:
        return False
    if enhanced is not None and enhanced.split(".", 1)[-1] == _TOO_MANY_RECIPIENTS_STATUS:
        return True
    return "too many recipients" in text.lower()


def classify_reply(reply: ReplyFacts) -> Verdict:
    """Decide from one reply. Raises ValueError for a code outside 200-599."""
    if not 200 <= reply.code <= 599:
        raise ValueError(f"{reply.code} is not a final SMTP reply code")
    kind = reply.code // 100
    if reply.phase is not ReplyPhase.TRANSACTION:
        if kind == 2:
            raise ValueError("a 2xx greeting or EHLO reply is not an outcome")
        # A host that refuses to talk to us says nothing about the recipient: another MX may.
        return Verdict(Outcome.TRY_NEXT_MX, classify_bounce(reply.enhanced, reply.text))
    if kind == 2:
        return Verdict(Outcome.DELIVERED)
    if kind == 3:
        raise ValueError(f"{reply.code} is an intermediate reply, not an outcome")
    if _is_too_many_recipients(reply.code, reply.enhanced, reply.text):
        return Verdict(Outcome.DEFERRED, BounceClass.RATE_LIMIT)
    bounce_class = classify_bounce(reply.enhanced, reply.text)
    if kind == 4 or bounce_class is BounceClass.RATE_LIMIT:
        return Verdict(Outcome.DEFERRED, bounce_class)
    return Verdict(Outcome.BOUNCED, bounce_class)


def classify_failure(failure: FailureFacts) -> Verdict:
    """Decide from a failure that is not a reply (DNS, connection, TLS, lost session)."""
    if failure.kind is FailureKind.NO_FINAL_REPLY:
        return Verdict(Outcome.DEFERRED, BounceClass.OTHER, possible_duplicate=True)
    if failure.kind in (FailureKind.CONNECT, FailureKind.TLS):
        return Verdict(Outcome.TRY_NEXT_MX, BounceClass.OTHER)
    bounce_class = classify_bounce(failure.enhanced, failure.text)
    if failure.kind is FailureKind.DNS and failure.enhanced is None and not failure.is_transient:
        bounce_class = BounceClass.BAD_DOMAIN
    if failure.kind is FailureKind.POLICY or failure.is_transient:
        return Verdict(Outcome.DEFERRED, bounce_class)
    return Verdict(Outcome.BOUNCED, bounce_class)


def classify(facts: ReplyFacts | FailureFacts) -> Verdict:
    """Decide from either kind of facts."""
    if isinstance(facts, ReplyFacts):
        return classify_reply(facts)
    return classify_failure(facts)
