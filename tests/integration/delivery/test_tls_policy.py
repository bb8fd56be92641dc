"""STARTTLS and MTA-STS (RFC 8461) on real receivers, real policy hosts and the test DNS.

Receivers on 127.0.0.111-119 present certificates from the test CA (valid, expired, wrong name,
self-signed); MTA-STS policy hosts ``mta-sts.<domain>`` listen on 127.0.0.120-126:443. The
``_mta-sts`` TXT record and the policy host's address come from the Knot test zone.
"""

from __future__ import annotations

import pytest

from postillon.delivery.job import FactKind
from postillon.delivery.verdicts import attempt_record
from postillon.queue.status import RecipientStatus
from tests.integration.delivery.conftest import (
    DeliveryFactory,
    PolicyHostFactory,
    job,
    policy_body,
    zone,
)
from tests.support.certs import CertKind, TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(30)

STARTTLS_MX = "127.0.0.111"
ENFORCE_MX = "127.0.0.113"
ROGUE_MX = "127.0.0.114"  # listed in DNS, not in the policy
LISTED_MX = "127.0.0.115"
ONLY_ROGUE_MX = "127.0.0.116"
BAD_CERT_MX = "127.0.0.117"
TESTING_MX = "127.0.0.118"
EXPIRED_FIRST_MX = "127.0.0.119"
VALID_SECOND_MX = "127.0.0.112"
POLICY_HOSTS = {
    "enforce-good": "127.0.0.120",
    "enforce-rogue": "127.0.0.121",
    "enforce-none-match": "127.0.0.122",
    "enforce-bad-cert": "127.0.0.123",
    "testing-bad-cert": "127.0.0.124",
    "testing-rogue": "127.0.0.125",
    "enforce-tls-fallback": "127.0.0.126",
}
POLICY_ID = "20261129T0001"
BAD_CERTS: list[CertKind] = ["expired", "wrong_name", "self_signed"]


def sts_zone(test_dns: TestDns, label: str, mx_records: str, policy_ip: str) -> str:
    """A domain publishing ``mx_records`` and an MTA-STS record whose policy host is
    ``policy_ip``."""
    lines = [
        *(line.strip() for line in mx_records.strip().splitlines()),
        f'_mta-sts TXT "v=STSv1; id={POLICY_ID};"',
        f"mta-sts A {policy_ip}",
    ]
    return zone(test_dns, label, "\n".join(lines))


@pytest.mark.parametrize(
    ("kind", "is_verified"),
    [
        pytest.param("valid", True, id="valid"),
        *(pytest.param(kind, False, id=kind) for kind in BAD_CERTS),
    ],
)
async def test_starttls_without_policy_is_opportunistic(
    *,
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    kind: CertKind,
    is_verified: bool,
) -> None:
    domain = zone(test_dns, "starttls", f"@ MX 10 mx\nmx A {STARTTLS_MX}")
    mx = f"mx.{domain}"
    receiver = await smtp_receiver(STARTTLS_MX, tls_context=pki.server_context(mx, kind))
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert fact.is_delivered
    [message] = receiver.messages
    assert message.tls_version is not None  # the mail went over TLS, verified or not
    tls = fact.hop.tls
    assert tls is not None
    assert (tls.used, tls.verified) == (True, is_verified)
    assert (tls.reason is None) is is_verified
    assert fact.hop.mta_sts_mode is None
    record = attempt_record(fact, delivery.clock.now())
    assert (record.tls_used, record.tls_verified, record.tls_version) == (
        True,
        is_verified,
        tls.version,
    )


async def test_enforce_delivers_over_verified_tls_and_records_the_policy(
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    policy_host: PolicyHostFactory,
) -> None:
    ip = POLICY_HOSTS["enforce-good"]
    domain = sts_zone(test_dns, "sts-good", f"@ MX 10 mx\nmx A {ENFORCE_MX}", ip)
    mx = f"mx.{domain}"
    server = await policy_host(domain, ip, policy_body("enforce", mx))
    receiver = await smtp_receiver(ENFORCE_MX, tls_context=pki.server_context(mx))
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert fact.is_delivered
    assert [m.tls_version is not None for m in receiver.messages] == [True]
    assert (fact.hop.mta_sts_mode, fact.hop.mta_sts_policy_id) == ("enforce", POLICY_ID)
    assert fact.hop.tls is not None
    assert fact.hop.tls.verified
    assert fact.hop.tls_policy_violation is None
    assert len(server.requests) == 1
    outcome = delivery.decide(fact)
    assert outcome.status is RecipientStatus.DELIVERED
    assert outcome.attempt is not None
    assert (outcome.attempt.mta_sts_mode, outcome.attempt.mta_sts_policy_id) == (
        "enforce",
        POLICY_ID,
    )


async def test_enforce_never_contacts_an_mx_outside_the_policy(
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    policy_host: PolicyHostFactory,
) -> None:
    ip = POLICY_HOSTS["enforce-rogue"]
    domain = sts_zone(
        test_dns,
        "sts-rogue",
        f"""
        @      MX 10 rogue
        @      MX 20 listed
        rogue  A  {ROGUE_MX}
        listed A  {LISTED_MX}
        """,
        ip,
    )
    await policy_host(domain, ip, policy_body("enforce", f"listed.{domain}"))
    rogue = await smtp_receiver(ROGUE_MX, tls_context=pki.server_context(f"rogue.{domain}"))
    listed = await smtp_receiver(LISTED_MX, tls_context=pki.server_context(f"listed.{domain}"))
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert rogue.connections == 0
    assert fact.is_delivered
    assert fact.hop.mx_host == f"listed.{domain}"
    assert [m.rcpt_tos for m in listed.messages] == [(f"a@{domain}",)]


async def test_enforce_with_no_matching_mx_defers_without_connecting(
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    policy_host: PolicyHostFactory,
) -> None:
    ip = POLICY_HOSTS["enforce-none-match"]
    domain = sts_zone(test_dns, "sts-none", f"@ MX 10 mx\nmx A {ONLY_ROGUE_MX}", ip)
    await policy_host(domain, ip, policy_body("enforce", f"elsewhere.{domain}"))
    receiver = await smtp_receiver(ONLY_ROGUE_MX, tls_context=pki.server_context(f"mx.{domain}"))
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert receiver.connections == 0
    assert (fact.kind, fact.is_transient) == (FactKind.POLICY, True)
    assert "MTA-STS" in fact.text
    assert f"mx.{domain}" in fact.text
    outcome = delivery.decide(fact)
    assert outcome.status is RecipientStatus.DEFERRED
    assert outcome.next_attempt_at is not None


@pytest.mark.parametrize(
    "kind",
    [*(pytest.param(kind, id=kind) for kind in BAD_CERTS), pytest.param(None, id="no-starttls")],
)
async def test_enforce_with_bad_tls_defers_and_sends_nothing(
    *,
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    policy_host: PolicyHostFactory,
    kind: CertKind | None,
) -> None:
    ip = POLICY_HOSTS["enforce-bad-cert"]
    domain = sts_zone(test_dns, "sts-badcert", f"@ MX 10 mx\nmx A {BAD_CERT_MX}", ip)
    mx = f"mx.{domain}"
    await policy_host(domain, ip, policy_body("enforce", mx))
    context = pki.server_context(mx, kind) if kind is not None else None
    receiver = await smtp_receiver(BAD_CERT_MX, tls_context=context)
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert receiver.messages == []
    assert receiver.connections == 1  # no plaintext retry
    assert (fact.kind, fact.is_transient) == (FactKind.POLICY, True)
    assert "MTA-STS enforce" in fact.text
    assert (fact.hop.mta_sts_mode, fact.hop.mta_sts_policy_id) == ("enforce", POLICY_ID)
    outcome = delivery.decide(fact)
    assert outcome.status is RecipientStatus.DEFERRED
    assert not outcome.suppress


async def test_enforce_tls_failure_moves_on_to_the_next_listed_mx(
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    policy_host: PolicyHostFactory,
) -> None:
    ip = POLICY_HOSTS["enforce-tls-fallback"]
    domain = sts_zone(
        test_dns,
        "sts-tls-fallback",
        f"""
        @    MX 10 mx1
        @    MX 20 mx2
        mx1  A  {EXPIRED_FIRST_MX}
        mx2  A  {VALID_SECOND_MX}
        """,
        ip,
    )
    await policy_host(domain, ip, policy_body("enforce", f"*.{domain}"))
    first = await smtp_receiver(
        EXPIRED_FIRST_MX, tls_context=pki.server_context(f"mx1.{domain}", "expired")
    )
    second = await smtp_receiver(VALID_SECOND_MX, tls_context=pki.server_context(f"mx2.{domain}"))
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert (first.connections, first.messages) == (1, [])
    assert fact.is_delivered
    assert fact.hop.mx_host == f"mx2.{domain}"
    assert fact.hop.tls is not None
    assert fact.hop.tls.verified
    assert [m.tls_version is not None for m in second.messages] == [True]


@pytest.mark.parametrize(
    "kind",
    [pytest.param("expired", id="expired"), pytest.param(None, id="no-starttls")],
)
async def test_testing_mode_delivers_and_records_bad_tls(
    *,
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    policy_host: PolicyHostFactory,
    kind: CertKind | None,
) -> None:
    ip = POLICY_HOSTS["testing-bad-cert"]
    domain = sts_zone(test_dns, "sts-testing", f"@ MX 10 mx\nmx A {TESTING_MX}", ip)
    mx = f"mx.{domain}"
    await policy_host(domain, ip, policy_body("testing", mx))
    context = pki.server_context(mx, kind) if kind is not None else None
    receiver = await smtp_receiver(TESTING_MX, tls_context=context)
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert fact.is_delivered
    assert len(receiver.messages) == 1
    assert fact.hop.mta_sts_mode == "testing"
    violation = fact.hop.tls_policy_violation
    assert violation is not None
    assert violation.startswith(f"MTA-STS testing (policy id {POLICY_ID})")
    assert fact.hop.tls is not None
    assert (fact.hop.tls.used, fact.hop.tls.verified) == (kind is not None, False)
    record = attempt_record(fact, delivery.clock.now())
    assert record.tls_reason is not None
    assert violation in record.tls_reason


async def test_testing_mode_records_an_mx_outside_the_policy(
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    policy_host: PolicyHostFactory,
) -> None:
    ip = POLICY_HOSTS["testing-rogue"]
    domain = sts_zone(test_dns, "sts-testing-rogue", f"@ MX 10 mx\nmx A {TESTING_MX}", ip)
    mx = f"mx.{domain}"
    await policy_host(domain, ip, policy_body("testing", f"elsewhere.{domain}"))
    receiver = await smtp_receiver(TESTING_MX, tls_context=pki.server_context(mx))
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert fact.is_delivered
    assert len(receiver.messages) == 1
    assert fact.hop.tls is not None
    assert fact.hop.tls.verified
    violation = fact.hop.tls_policy_violation
    assert violation is not None
    assert f"MX {mx} does not match" in violation
