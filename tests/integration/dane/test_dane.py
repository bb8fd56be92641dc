"""DANE (RFC 7672) end to end: knot-signed zones, unbound validating, real SMTP receivers.

Each test publishes its own names under the signed test root (``*.d18.``) and runs one real
Attempt; what the receiver got (connections, RCPTs, messages) is the evidence that nothing was
sent when DANE said no.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postillon.delivery.job import FactKind
from postillon.delivery.tlsrpt_session import sessions_of
from postillon.delivery.verdicts import attempt_record
from tests.integration.dane.conftest import (
    DaneDeliveryFactory,
    ca_certificate,
    cert_sha256,
    context_with_ca,
    job,
    leaf_certificate,
    spki_sha256,
)
from tests.integration.delivery.conftest import policy_body
from tests.support.certs import CertKind, TestPki
from tests.support.dnssec_dns import INSECURE_ZONE, SignedDns
from tests.support.https_server import HttpsServer
from tests.support.receivers import Receiver

WRONG_DIGEST = "ab" * 32


def _mx_zone(signed_dns: SignedDns, domain: str, ip: str, tlsa: str | None) -> str:
    mx = f"mx.{domain}"
    records = f"{domain}. MX 10 {mx}.\n{mx}. A {ip}"
    if tlsa is not None:
        records += f"\n_25._tcp.{mx}. TLSA {tlsa}"
    signed_dns.add(".", records)
    return mx


class _RcptLog:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, address: str) -> None:
        self.seen.append(address)


async def test_dane_ee_spki_sha256_delivers_and_records_dane(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    mx = "mx.ee-good.d18"
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(mx)))
    _mx_zone(signed_dns, "ee-good.d18", "127.0.18.10", tlsa)
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.10", tls_context=pki.server_context(mx)) as rx:
        (fact,) = await delivery.run(job("ee-good.d18", "bob@ee-good.d18"))
        assert fact.is_delivered, fact.text
        assert len(rx.messages) == 1
        assert rx.messages[0].tls_version is not None
    assert fact.hop.tls_policy == "dane"
    assert fact.hop.dane_tlsa == "3 1 1"
    assert fact.hop.tls is not None
    assert fact.hop.tls.verified
    assert fact.hop.mta_sts_mode is None
    record = attempt_record(fact, datetime.now(UTC))  # what the attempt row keeps
    assert (record.tls_policy, record.dane_tlsa, record.tls_refusal) == ("dane", "3 1 1", None)


async def test_wrong_tlsa_digest_defers_without_a_byte_of_mail(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    mx = _mx_zone(signed_dns, "ee-wrong.d18", "127.0.18.11", f"3 1 1 {WRONG_DIGEST}")
    rcpts = _RcptLog()
    delivery = await make_dane_delivery()
    async with Receiver(
        "127.0.18.11", tls_context=pki.server_context(mx), rcpt_handler=rcpts
    ) as rx:
        (fact,) = await delivery.run(job("ee-wrong.d18", "bob@ee-wrong.d18"))
        assert rx.connections == 1  # TLS was set up, then the session was dropped
    assert not fact.is_delivered
    assert fact.is_transient
    assert fact.kind is FactKind.POLICY
    assert fact.enhanced == "4.7.5"
    assert "matches no TLSA record" in fact.text
    assert fact.hop.tls_policy == "dane"
    assert fact.hop.tls_refusal is not None
    assert "DANE" in fact.hop.tls_refusal
    assert rx.messages == []
    assert rcpts.seen == []  # not even an envelope went over the channel
    assert attempt_record(fact, datetime.now(UTC)).tls_result == "tlsa-invalid"


async def test_dane_ta_with_a_name_mismatch_defers(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory, tmp_path: Path
) -> None:
    tlsa = "2 0 1 " + cert_sha256(ca_certificate(pki))
    mx = _mx_zone(signed_dns, "ta-name.d18", "127.0.18.12", tlsa)
    context = context_with_ca(pki, pki.cert_files(mx, "wrong_name"), tmp_path)
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.12", tls_context=context) as rx:
        (fact,) = await delivery.run(job("ta-name.d18", "bob@ta-name.d18"))
    assert fact.kind is FactKind.POLICY
    assert fact.is_transient
    assert "DANE-TA chain did not verify" in fact.text
    assert "mx.ta-name.d18" in fact.text
    assert "name" in fact.text.split("DANE-TA chain did not verify", 1)[1].lower()
    assert rx.messages == []


async def test_dane_ta_with_the_right_name_delivers(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory, tmp_path: Path
) -> None:
    tlsa = "2 0 1 " + cert_sha256(ca_certificate(pki))
    mx = _mx_zone(signed_dns, "ta-good.d18", "127.0.18.13", tlsa)
    context = context_with_ca(pki, pki.cert_files(mx), tmp_path)
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.13", tls_context=context) as rx:
        (fact,) = await delivery.run(job("ta-good.d18", "bob@ta-good.d18"))
        assert fact.is_delivered, fact.text
        assert len(rx.messages) == 1
    assert fact.hop.dane_tlsa == "2 0 1"


async def test_dane_ee_ignores_an_expired_certificate(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    mx = "mx.ee-expired.d18"
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(mx, "expired")))
    _mx_zone(signed_dns, "ee-expired.d18", "127.0.18.14", tlsa)
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.14", tls_context=pki.server_context(mx, "expired")) as rx:
        (fact,) = await delivery.run(job("ee-expired.d18", "bob@ee-expired.d18"))
        assert fact.is_delivered, fact.text
        assert len(rx.messages) == 1
    assert fact.hop.tls_policy == "dane"


async def test_tlsa_in_an_insecure_zone_is_ignored(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    signed_dns.add(
        INSECURE_ZONE,
        f"""
        plain MX 10 mx.plain
        mx.plain A 127.0.18.15
        _25._tcp.mx.plain TLSA 3 1 1 {WRONG_DIGEST}
        """,
    )
    domain = f"plain.{INSECURE_ZONE}".rstrip(".")
    mx = f"mx.{domain}"
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.15", tls_context=pki.server_context(mx, "self_signed")) as rx:
        (fact,) = await delivery.run(job(domain, f"bob@{domain}"))
        assert fact.is_delivered, fact.text
        assert len(rx.messages) == 1
    assert fact.hop.tls_policy == "opportunistic"
    assert fact.hop.dane_tlsa is None
    assert fact.hop.tls is not None
    assert fact.hop.tls.used
    assert not fact.hop.tls.verified


async def test_bogus_tlsa_defers_without_connecting(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    # mx.bogus-tlsa.d18 is secure; its _tcp child zone has a DS that matches no key.
    signed_dns.add(
        ".", "bogus-tlsa.d18. MX 10 mx.bogus-tlsa.d18.\nmx.bogus-tlsa.d18. A 127.0.18.16"
    )
    signed_dns.add("_tcp.mx.bogus-tlsa.d18.", f"_25 TLSA 3 1 1 {WRONG_DIGEST}")
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.16", tls_context=pki.server_context("mx.bogus-tlsa.d18")) as rx:
        (fact,) = await delivery.run(job("bogus-tlsa.d18", "bob@bogus-tlsa.d18"))
        assert rx.connections == 0
    assert fact.kind is FactKind.POLICY
    assert fact.is_transient
    assert "TLSA lookup of _25._tcp.mx.bogus-tlsa.d18 failed" in fact.text
    assert "SERVFAIL" in fact.text
    assert fact.hop.tls_policy == "dane"
    assert fact.hop.tls_result == "dnssec-invalid"


async def test_starttls_stripped_with_tlsa_present_defers(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    mx = "mx.stripped.d18"
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(mx)))
    _mx_zone(signed_dns, "stripped.d18", "127.0.18.17", tlsa)
    rcpts = _RcptLog()
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.17", rcpt_handler=rcpts) as rx:  # no STARTTLS offered
        (fact,) = await delivery.run(job("stripped.d18", "bob@stripped.d18"))
        assert rx.connections == 1
    assert fact.kind is FactKind.POLICY
    assert "STARTTLS not offered" in fact.text
    assert fact.hop.tls_result == "starttls-not-supported"
    assert "DANE" in fact.text
    assert rx.messages == []
    assert rcpts.seen == []


async def test_dane_wins_over_mta_sts_enforce(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    # The MTA-STS policy would never allow this MX (it lists another host) and the certificate
    # is self-signed (no WebPKI): only DANE lets the message through (RFC 8461 §2).
    domain, mx = "both.d18", "mx.both.d18"
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(mx, "self_signed")))
    _mx_zone(signed_dns, domain, "127.0.18.18", tlsa)
    signed_dns.add(
        ".",
        f'_mta-sts.{domain}. TXT "v=STSv1; id=dane1"\nmta-sts.{domain}. A 127.0.18.19',
    )
    policy_server = HttpsServer("127.0.18.19", pki.server_context(f"mta-sts.{domain}"))
    policy_server.response.body = policy_body("enforce", "other-mx.example")
    delivery = await make_dane_delivery()
    async with (
        policy_server,
        Receiver("127.0.18.18", tls_context=pki.server_context(mx, "self_signed")) as rx,
    ):
        (fact,) = await delivery.run(job(domain, f"bob@{domain}"))
        assert fact.is_delivered, fact.text
        assert len(rx.messages) == 1
        assert len(policy_server.requests) == 1  # the policy was fetched, and set aside
    assert fact.hop.tls_policy == "dane"
    assert fact.hop.dane_tlsa == "3 1 1"
    assert fact.hop.mta_sts_mode is None


async def test_a_pooled_session_without_dane_never_carries_dane_protected_mail(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    # One MX host, two recipient domains: one reaches it through an unsigned MX RRset (no
    # DANE), the other through a signed one with a TLSA record the server does not match.
    mx = "mx.shared.d18"
    signed_dns.add(".", f"{mx}. A 127.0.18.20\n_25._tcp.{mx}. TLSA 3 1 1 {WRONG_DIGEST}")
    signed_dns.add(".", f"signed-shared.d18. MX 10 {mx}.")
    signed_dns.add(INSECURE_ZONE, f"shared MX 10 {mx}.")
    plain_domain = f"shared.{INSECURE_ZONE}".rstrip(".")
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.20", tls_context=pki.server_context(mx)) as rx:
        (plain,) = await delivery.run(job(plain_domain, f"a@{plain_domain}"))
        assert plain.is_delivered, plain.text
        assert plain.hop.tls_policy == "opportunistic"
        (protected,) = await delivery.run(job("signed-shared.d18", "b@signed-shared.d18"))
        assert rx.connections == 2  # a new session, not the pooled one
        assert len(rx.messages) == 1
    assert not protected.is_delivered
    assert "matches no TLSA record" in protected.text


async def test_dane_ta_accepts_the_name_a_secure_cname_leads_to(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory, tmp_path: Path
) -> None:
    # RFC 7672 §3.2.2: the MX host is an alias; the certificate names only its target.
    alias, target = "mx.alias.d18", "mx-real.alias.d18"
    tlsa = "2 0 1 " + cert_sha256(ca_certificate(pki))
    signed_dns.add(
        ".",
        f"""
        alias.d18. MX 10 {alias}.
        {alias}. CNAME {target}.
        {target}. A 127.0.18.21
        _25._tcp.{alias}. TLSA {tlsa}
        """,
    )
    context = context_with_ca(pki, pki.cert_files(target), tmp_path)
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.21", tls_context=context) as rx:
        (fact,) = await delivery.run(job("alias.d18", "bob@alias.d18"))
        assert fact.is_delivered, fact.text
        assert len(rx.messages) == 1
    assert fact.hop.dane_tlsa == "2 0 1"


async def test_a_host_refused_before_the_one_that_took_the_mail_is_reported_too(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    good = "mx2.fallback.d18"
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(good)))
    signed_dns.add(
        ".",
        f"""
        fallback.d18. MX 10 mx1.fallback.d18.
        fallback.d18. MX 20 {good}.
        mx1.fallback.d18. A 127.0.18.22
        _25._tcp.mx1.fallback.d18. TLSA 3 1 1 {WRONG_DIGEST}
        {good}. A 127.0.18.23
        _25._tcp.{good}. TLSA {tlsa}
        """,
    )
    delivery = await make_dane_delivery()
    async with (
        Receiver("127.0.18.22", tls_context=pki.server_context("mx1.fallback.d18")) as first,
        Receiver("127.0.18.23", tls_context=pki.server_context(good)) as second,
    ):
        facts = await delivery.run(job("fallback.d18", "bob@fallback.d18"))
        assert (len(first.messages), len(second.messages)) == (0, 1)
    (fact,) = facts
    assert fact.is_delivered
    sessions = sessions_of("fallback.d18", facts, datetime(2026, 12, 4, 23, 59, tzinfo=UTC))
    assert [(s.mx_host, s.policy_type, s.result_type, s.day) for s in sessions] == [
        ("mx1.fallback.d18", "tlsa", "tlsa-invalid", "2026-12-04"),
        (good, "tlsa", "", "2026-12-04"),
    ]
    assert sessions[0].receiving_ip == "127.0.18.22"
    assert sessions[0].policy_strings == (f"3 1 1 {WRONG_DIGEST}",)


_POLICY_PROBLEMS = [
    ("sts-down", "127.0.18.24", None, "sts-policy-fetch-error"),  # nothing listens
    ("sts-selfsigned", "127.0.18.25", "self_signed", "sts-webpki-invalid"),
    ("sts-garbage", "127.0.18.26", "valid", "sts-policy-invalid"),
]


@pytest.mark.parametrize("case", _POLICY_PROBLEMS, ids=[c[0] for c in _POLICY_PROBLEMS])
async def test_a_policy_that_could_not_be_used_is_reported_on_the_session(
    signed_dns: SignedDns,
    pki: TestPki,
    make_dane_delivery: DaneDeliveryFactory,
    case: tuple[str, str, CertKind | None, str],
) -> None:
    label, ip, kind, result = case
    domain, mx, mx_ip = f"{label}.d18", f"mx.{label}.d18", "127.0.18.27"
    signed_dns.add(
        ".",
        f"""
        {domain}. MX 10 {mx}.
        {mx}. A {mx_ip}
        _mta-sts.{domain}. TXT "v=STSv1; id=1"
        mta-sts.{domain}. A {ip}
        """,
    )
    delivery = await make_dane_delivery()
    async with contextlib.AsyncExitStack() as stack:
        if kind is not None:
            server = HttpsServer(ip, pki.server_context(f"mta-sts.{domain}", kind))
            server.response.body = b"this is not a policy\r\n"
            await stack.enter_async_context(server)
        rx = await stack.enter_async_context(Receiver(mx_ip, tls_context=pki.server_context(mx)))
        facts = await delivery.run(job(domain, f"bob@{domain}"))
        assert len(rx.messages) == 1  # delivered as without a policy
    (session,) = sessions_of(domain, facts, datetime.now(UTC))
    assert (session.policy_type, session.result_type) == ("sts", result)
    assert facts[0].hop.tls_policy == "opportunistic"


async def test_tlsa_at_the_cname_target_comes_first(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> None:
    # RFC 7672 §2.2.2: the expanded name's TLSA RRset wins over the alias's.
    alias, target = "mx.alias2.d18", "mx-real.alias2.d18"
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(target)))
    signed_dns.add(
        ".",
        f"""
        alias2.d18. MX 10 {alias}.
        {alias}. CNAME {target}.
        {target}. A 127.0.18.28
        _25._tcp.{target}. TLSA {tlsa}
        _25._tcp.{alias}. TLSA 3 1 1 {WRONG_DIGEST}
        """,
    )
    delivery = await make_dane_delivery()
    async with Receiver("127.0.18.28", tls_context=pki.server_context(target)) as rx:
        (fact,) = await delivery.run(job("alias2.d18", "bob@alias2.d18"))
        assert fact.is_delivered, fact.text
        assert len(rx.messages) == 1
    assert fact.hop.dane_tlsa == "3 1 1"
