"""What one delivery attempt takes (:class:`DeliveryJob`) and what it found out (facts).

A job is one message for the recipients of one destination domain, claimed together; the
attempt turns it into one :class:`RecipientFacts` per recipient. Facts are what happened (the
reply, the error, the MX, the TLS), not what it means: queue/ decides delivered, deferred or
bounced from them, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from postillon.transport.tls import TlsInfo


@dataclass(frozen=True)
class JobRecipient:
    """A claimed recipient: its row id and address."""

    recipient_id: str
    address: str


@dataclass(frozen=True)
class DeliveryJob:
    """One message (signed bytes, sent as they are) for recipients in one domain."""

    message_id: str
    mail_from: str
    domain: str
    recipients: tuple[JobRecipient, ...]
    body: bytes


class FactKind(StrEnum):
    """Where the decisive answer came from."""

    REPLY = "reply"  # the server answered (RCPT, MAIL or the data phase)
    DNS = "dns"  # routing failed: no MX, NXDOMAIN, null MX, SERVFAIL, loop
    CONNECT = "connect"  # no MX host could be reached or would greet us
    POLICY = "policy"  # MTA-STS forbade every MX host, or TLS failed under enforce
    PROTOCOL = "protocol"  # the session broke midway (lost connection, timeout, garbage)
    NO_FINAL_REPLY = "no_final_reply"  # data sent, reply to the final dot never came
    MESSAGE = "message"  # the message cannot go to this server (size, 8BITMIME, SMTPUTF8)


@dataclass(frozen=True)
class Hop:
    """The MX host and session one attempt ended on, for the attempt log."""

    mx_host: str | None = None
    ip: str | None = None
    tls: TlsInfo | None = None
    mta_sts_mode: str | None = None
    mta_sts_policy_id: str | None = None
    tls_policy_violation: str | None = None
    transcript: str = ""
    # Which transport-security policy applied (see postillon.delivery.tls_policy), the TLSA
    # record that authenticated the server ("3 1 1"), and why a session was refused.
    tls_policy: str | None = None
    dane_tlsa: str | None = None
    tls_refusal: str | None = None
    # For TLS reporting (RFC 8460): the policy's strings (MTA-STS policy lines, TLSA records)
    # and the result type of a failed or non-compliant session (None: it succeeded).
    tls_policy_strings: tuple[str, ...] = ()
    tls_result: str | None = None


@dataclass(frozen=True)
class RecipientFacts:
    """What happened to one recipient in one attempt."""

    recipient: JobRecipient
    kind: FactKind
    is_transient: bool
    code: int | None
    enhanced: str | None
    text: str
    hop: Hop
    duration_ms: int
    possible_duplicate: bool = False
    # Hosts tried before ``hop`` and refused on TLS grounds (DANE, MTA-STS): TLS reporting
    # counts each as a failed session; the attempt row keeps only ``hop``.
    earlier_hops: tuple[Hop, ...] = ()
    # The recipient complained after delivery (the sandbox's complained@ address).
    complained: bool = False

    @property
    def is_delivered(self) -> bool:
        """Whether the server took responsibility for the message (2xx to the final dot)."""
        return self.kind is FactKind.REPLY and self.code is not None and 200 <= self.code < 300


class JobRunner(Protocol):
    """What the engine runs per job: :class:`postillon.delivery.attempt.Attempt`, or the
    sandbox routing in front of it."""

    async def run(self, job: DeliveryJob) -> list[RecipientFacts]:
        """One fact per recipient, in the job's order; never raises for delivery problems."""
        ...
