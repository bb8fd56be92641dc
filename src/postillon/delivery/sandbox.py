"""The sandbox: simulated delivery to the simulator domain, where the engine would dial.

Mail to ``[sandbox] domain`` (default ``simulator.postillon.invalid``; RFC 2606 reserves
``.invalid``, so it is never resolved) is claimed, attempted, recorded, announced by webhooks
and shown in the dashboard like any other; only the SMTP session is replaced by a reply chosen
from the local part:

==============  ========================================  =============================
address         simulated reply                           what follows
==============  ========================================  =============================
delivered@      250 2.0.0                                 delivered
bounced@        554 5.7.1 (a policy refusal)              bounced; not suppressed
deferred@       451 4.3.0                                 deferred, retried, expires
complained@     250 2.0.0, then a complaint               delivered; complained (suppressed)
suppressed@     550 5.1.1 (no such mailbox)               bounced; the address is suppressed
anything else   550 5.1.1 (not a simulator address)       bounced; suppressed
==============  ========================================  =============================

The complaint is applied when the delivery is recorded, as a received ARF complaint is
(``email.complained``, suppression with reason ``complaint``: storage.reports_sql).

Must not open sockets or resolve names (the point of the sandbox is that nothing leaves the
machine), nor decide what a reply means: queue/ does, as for real replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from postillon.delivery.job import (
    DeliveryJob,
    FactKind,
    Hop,
    JobRecipient,
    JobRunner,
    RecipientFacts,
)
from postillon.transport.tls import TlsInfo

# What the attempt log shows as the MX host of a simulated attempt (no host was dialled).
SANDBOX_HOST = "sandbox"
_NO_TLS = TlsInfo(used=False, reason="sandbox: no connection is made")


@dataclass(frozen=True)
class SimulatedReply:
    """The reply a simulator address gets, and whether a complaint follows delivery."""

    code: int
    enhanced: str
    text: str
    complained: bool = False


SIMULATED: dict[str, SimulatedReply] = {
    "delivered": SimulatedReply(250, "2.0.0", "OK: delivered (sandbox)"),
    "bounced": SimulatedReply(554, "5.7.1", "Message refused (sandbox: simulated hard bounce)"),
    "deferred": SimulatedReply(
        451, "4.3.0", "Local error in processing (sandbox: simulated deferral)"
    ),
    "complained": SimulatedReply(
        250, "2.0.0", "OK: delivered (sandbox: a complaint follows)", complained=True
    ),
    "suppressed": SimulatedReply(550, "5.1.1", "No such mailbox (sandbox: address suppressed)"),
}
_UNKNOWN = SimulatedReply(550, "5.1.1", "No such simulator address (sandbox)")


def simulated_reply(address: str) -> SimulatedReply:
    """The reply for ``address`` at the simulator domain (``+tag`` suffixes are ignored)."""
    local = address.rpartition("@")[0].split("+", 1)[0].lower()
    return SIMULATED.get(local, _UNKNOWN)


def is_sandbox_domain(domain: str, sandbox: str) -> bool:
    """True when ``domain`` is the simulator domain ``sandbox`` (any case, trailing dot or not)."""
    return domain.rstrip(".").lower() == sandbox


class SandboxRouting:
    """Sends jobs for the simulator domain to the simulation and every other job on to the
    real attempt."""

    def __init__(self, *, domain: str, real: JobRunner) -> None:
        self.domain = domain
        self._real = real

    async def run(self, job: DeliveryJob) -> list[RecipientFacts]:
        """Simulated facts for the simulator domain; the real attempt for the rest."""
        if not is_sandbox_domain(job.domain, self.domain):
            return await self._real.run(job)
        return simulate(job.recipients, self.domain)


def simulate(recipients: Sequence[JobRecipient], domain: str) -> list[RecipientFacts]:
    """The facts a real session would have produced for these replies."""
    facts = []
    for recipient in recipients:
        reply = simulated_reply(recipient.address)
        transcript = (
            f"(sandbox) 220 {domain}\n(sandbox) MAIL FROM / RCPT TO:<{recipient.address}>\n"
            f"(sandbox) {reply.code} {reply.enhanced} {reply.text}"
        )
        facts.append(
            RecipientFacts(
                recipient=recipient,
                kind=FactKind.REPLY,
                is_transient=reply.code < 500,
                code=reply.code,
                enhanced=reply.enhanced,
                text=reply.text,
                hop=Hop(mx_host=SANDBOX_HOST, tls=_NO_TLS, transcript=transcript),
                duration_ms=0,
                complained=reply.complained,
            )
        )
    return facts
