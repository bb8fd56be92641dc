"""The published records as receivers see them: dkimpy verifies our signature with the key
record from the real test DNS server, and authheaders' DMARC check (SPF through pyspf, DKIM
through dkimpy, the DMARC record from the same server) says aligned pass, or fail when the
From domain is not the customer's."""

from __future__ import annotations

import importlib.resources
import sys
import types
from datetime import date
from pathlib import Path

import dkim
import pytest
from authheaders import check_dkim, check_dmarc, check_spf  # type: ignore[import-untyped]
from authheaders.dmarc_lookup import get_org_domain  # type: ignore[import-untyped]

from postillon.clock import FakeClock
from postillon.config.settings import DeliverySettings
from postillon.dkim import DkimSigner, SigningKey, dated_selector, generate_rsa_key, sign_message
from postillon.domains import (
    DnsRecordSpec,
    RecordPurpose,
    bounce_address,
    required_records,
)
from tests.integration.domains.oracles import dkimpy_dnsfunc, dmarc_dnsfunc, zone_text
from tests.support.dns_server import TestDns

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.usefixtures("pyspf_on_test_dns", "test_is_a_public_suffix"),
]

OUR_ADDRESS = "192.0.2.7"  # RFC 5737 documentation address: SPF text only
STRANGER = "198.51.100.9"
SELECTOR = dated_selector(date(2026, 11, 29), lambda n: b"\x11" * n)


@pytest.fixture
def test_is_a_public_suffix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make authheaders treat "test" (RFC 6761) as a public suffix, so "x.test" is an
    organizational domain (RFC 7489 §3.2). Its bundled list lacks "test", so every name under
    it would share the organization "test" and anything would align. authheaders reads a
    packager's list from ``authheaders.findpsl.location`` when that module exists: we give
    it the bundled list plus "test"."""
    bundled = importlib.resources.files("authheaders") / "public_suffix_list.txt"
    psl = tmp_path / "public_suffix_list.txt"
    psl.write_text(bundled.read_text(encoding="utf-8") + "\ntest\n", encoding="utf-8")
    findpsl = types.ModuleType("authheaders.findpsl")
    findpsl.location = str(psl)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "authheaders.findpsl", findpsl)
    assert get_org_domain("pstbounces.shop1.test") == "shop1.test"
    assert get_org_domain("shop1.test") != get_org_domain("shop2.test")


def _origin(test_dns: TestDns, label: str) -> str:
    """A new zone name without "-": authheaders' get_domain_part reads a domain only up to
    its first hyphen (``@([a-z0-9.]+)``), so "dmarc-3.test" would be judged as "dmarc"."""
    return test_dns.new_origin(label).replace("-", "")


def _publish(test_dns: TestDns, key: SigningKey, label: str) -> tuple[str, DeliverySettings]:
    domain = _origin(test_dns, label)
    delivery = DeliverySettings(helo_name=f"mta.{domain}", source_addresses=(OUR_ADDRESS,))
    specs: tuple[DnsRecordSpec, ...] = required_records(
        domain, SELECTOR, key.txt_record(), delivery
    )
    test_dns.add_zone(domain, zone_text(specs))
    assert {s.purpose for s in specs} == set(RecordPurpose)
    return domain, delivery


def _message(from_domain: str) -> bytes:
    return (
        f"From: Alice <alice@{from_domain}>\r\n"
        "To: bob@receiver.example\r\n"
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
        "Date: Sun, 29 Nov 2026 04:30:00 +0000\r\n"
        f"Message-ID: <m1@{from_domain}>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Hello Bob,  \r\n\r\ntrailing spaces and blank lines survive.\r\n\r\n\r\n"
    ).encode()


def _signed(domain: str, key: SigningKey, from_domain: str | None = None) -> bytes:
    signer = DkimSigner(domain=domain, selector=SELECTOR, key=key, clock=FakeClock())
    return sign_message(_message(from_domain or domain), [signer])


def test_dkimpy_verifies_with_the_published_key(test_dns: TestDns, dkim_key: SigningKey) -> None:
    domain, _ = _publish(test_dns, dkim_key, "dkimok")
    message = _signed(domain, dkim_key)
    assert dkim.verify(message, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver)) is True


def test_dkimpy_fails_when_another_key_is_published(
    test_dns: TestDns, dkim_key: SigningKey
) -> None:
    domain, _ = _publish(test_dns, generate_rsa_key(), "dkimother")
    message = _signed(domain, dkim_key)
    assert dkim.verify(message, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver)) is False


@pytest.mark.parametrize(
    ("client", "signed", "spf", "dkim_result"),
    [
        pytest.param(OUR_ADDRESS, True, "pass", "pass", id="spf-and-dkim"),
        pytest.param(OUR_ADDRESS, False, "pass", None, id="spf-alone-aligns"),
        pytest.param(STRANGER, True, "fail", "pass", id="dkim-alone-aligns"),
    ],
)
def test_dmarc_passes_aligned(
    *,
    test_dns: TestDns,
    dkim_key: SigningKey,
    client: str,
    signed: bool,
    spf: str,
    dkim_result: str | None,
) -> None:
    domain, delivery = _publish(test_dns, dkim_key, "dmarc")
    message = _signed(domain, dkim_key) if signed else _message(domain)
    mail_from = bounce_address(domain, "m1")
    spf_result = check_spf(client, mail_from, delivery.helo_name)
    dkim_auth = check_dkim(message, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver)) if signed else None
    dmarc = check_dmarc(message, spf_result, dkim_auth, dnsfunc=dmarc_dnsfunc(test_dns.nameserver))
    assert spf_result.result == spf
    assert (dkim_auth.result if dkim_auth else None) == dkim_result
    assert (dmarc.result, dmarc.header_from, dmarc.policy) == ("pass", domain, "none")


def test_dmarc_fails_for_a_from_domain_that_is_not_the_customers(
    test_dns: TestDns, dkim_key: SigningKey
) -> None:
    domain, delivery = _publish(test_dns, dkim_key, "aligned")
    victim = _origin(test_dns, "victim")
    test_dns.add_zone(victim, '_dmarc TXT "v=DMARC1; p=reject"')
    # Signed by the customer's domain and sent with its return path, but From another domain:
    # both SPF and DKIM pass, for the wrong organization.
    message = _signed(domain, dkim_key, from_domain=victim)
    spf_result = check_spf(OUR_ADDRESS, bounce_address(domain, "m1"), delivery.helo_name)
    dkim_auth = check_dkim(message, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver))
    dmarc = check_dmarc(message, spf_result, dkim_auth, dnsfunc=dmarc_dnsfunc(test_dns.nameserver))
    assert (spf_result.result, dkim_auth.result) == ("pass", "pass")
    assert (dmarc.result, dmarc.header_from, dmarc.policy) == ("fail", victim, "reject")
