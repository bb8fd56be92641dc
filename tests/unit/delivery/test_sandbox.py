"""The sandbox's simulated replies, and the routing that keeps real jobs on the real path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.config.settings import RetrySettings
from postillon.delivery.job import DeliveryJob, FactKind, JobRecipient, RecipientFacts
from postillon.delivery.sandbox import SANDBOX_HOST, SandboxRouting, is_sandbox_domain
from postillon.delivery.verdicts import decide
from postillon.queue.bounce import BounceClass
from postillon.queue.status import RecipientStatus

SANDBOX = "simulator.postillon.invalid"
T0 = datetime(2026, 12, 1, tzinfo=UTC)


class RecordingRunner:
    """The real attempt's stand-in: records the jobs it is given."""

    def __init__(self) -> None:
        self.jobs: list[DeliveryJob] = []

    async def run(self, job: DeliveryJob) -> list[RecipientFacts]:
        self.jobs.append(job)
        return []


def job(domain: str, *locals_: str) -> DeliveryJob:
    recipients = tuple(
        JobRecipient(f"r{i}", f"{local}@{domain}") for i, local in enumerate(locals_)
    )
    return DeliveryJob("m1", "bounces@x.example", domain, recipients, b"body")


async def run(*locals_: str, domain: str = SANDBOX) -> tuple[list[RecipientFacts], RecordingRunner]:
    real = RecordingRunner()
    facts = await SandboxRouting(domain=SANDBOX, real=real).run(job(domain, *locals_))
    return facts, real


D, B, F = RecipientStatus.DELIVERED, RecipientStatus.BOUNCED, RecipientStatus.DEFERRED


@pytest.mark.parametrize(
    ("local", "status", "code", "bounce_class", "suppress", "complained"),
    [
        pytest.param("delivered", D, 250, None, False, False, id="delivered"),
        pytest.param("bounced", B, 554, BounceClass.POLICY, False, False, id="bounced"),
        pytest.param("deferred", F, 451, BounceClass.OTHER, False, False, id="deferred"),
        pytest.param("complained", D, 250, None, False, True, id="complained"),
        pytest.param("suppressed", B, 550, BounceClass.BAD_MAILBOX, True, False, id="suppressed"),
        pytest.param("nobody", B, 550, BounceClass.BAD_MAILBOX, True, False, id="unknown"),
        pytest.param("Delivered+tag", D, 250, None, False, False, id="case-and-tag"),
    ],
)
async def test_each_address_decides_like_a_real_reply(  # noqa: PLR0917
    local: str,
    status: RecipientStatus,
    code: int,
    bounce_class: BounceClass | None,
    suppress: bool,
    complained: bool,
) -> None:
    [fact], real = await run(local)
    outcome = decide(
        fact,
        previous_attempts=0,
        created_at=T0,
        started_at=T0,
        now=T0,
        retry=RetrySettings(),
        random=lambda: 0.5,
    )

    assert real.jobs == []
    assert (fact.kind, fact.code, fact.hop.mx_host, fact.hop.ip) == (
        FactKind.REPLY, code, SANDBOX_HOST, None,
    )  # fmt: skip
    assert fact.hop.tls is not None
    assert not fact.hop.tls.used
    assert outcome.status is status
    assert outcome.bounce_class == bounce_class
    assert outcome.suppress is suppress
    assert outcome.complained is complained
    assert outcome.attempt is not None
    assert outcome.attempt.mx_host == SANDBOX_HOST


async def test_every_recipient_of_a_job_gets_its_own_fact_in_order() -> None:
    facts, _ = await run("deferred", "delivered", "bounced")
    assert [(f.recipient.recipient_id, f.code) for f in facts] == [
        ("r0", 451), ("r1", 250), ("r2", 554),
    ]  # fmt: skip


async def test_other_domains_go_to_the_real_attempt() -> None:
    facts, real = await run("delivered", domain="example.net")
    assert facts == []
    assert [j.domain for j in real.jobs] == ["example.net"]


def test_the_sandbox_domain_is_recognised_in_any_case_with_or_without_its_dot() -> None:
    assert is_sandbox_domain("Simulator.Postillon.Invalid.", SANDBOX)
    assert not is_sandbox_domain("simulator.postillon.invalid.example", SANDBOX)
