"""verify_domain against the real test DNS server: records published, wrong, missing, failing."""

from __future__ import annotations

from datetime import date

import pytest

from postillon.config.settings import DeliverySettings
from postillon.dkim import SigningKey, dated_selector, generate_rsa_key
from postillon.dns.resolver import Resolver
from postillon.domains import (
    CheckStatus,
    DnsRecordSpec,
    DomainCheck,
    NoSourceAddressesError,
    RecordPurpose,
    required_records,
    verify_domain,
)
from tests.integration.domains.oracles import zone_text
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)

# Documentation addresses (RFC 5737, RFC 3849): SPF text only, nothing connects to them.
SOURCE_ADDRESSES = ("192.0.2.7", "192.0.2.8", "2001:db8::7")


def _setup(test_dns: TestDns, key: SigningKey, label: str) -> tuple[str, tuple[DnsRecordSpec, ...]]:
    domain = test_dns.new_origin(label)
    delivery = DeliverySettings(helo_name=f"mta.{domain}", source_addresses=SOURCE_ADDRESSES)
    selector = dated_selector(date(2026, 11, 29), lambda n: b"\x42" * n)
    return domain, required_records(domain, selector, key.txt_record(), delivery)


def _by_purpose(result: DomainCheck) -> dict[RecordPurpose, tuple[CheckStatus, str | None]]:
    return {c.spec.purpose: (c.status, c.problem) for c in result.checks}


def _spec(specs: tuple[DnsRecordSpec, ...], purpose: RecordPurpose) -> DnsRecordSpec:
    return next(s for s in specs if s.purpose is purpose)


async def test_published_records_all_verify(
    test_dns: TestDns, resolver: Resolver, dkim_key: SigningKey
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "all")
    assert len(_spec(specs, RecordPurpose.DKIM).value_strings) > 1  # published split, read joined
    test_dns.add_zone(domain, zone_text(specs))
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    assert {c.spec.purpose: c.status for c in result.checks} == dict.fromkeys(
        RecordPurpose, CheckStatus.VERIFIED
    )
    assert all(c.problem is None for c in result.checks)
    assert result.is_verified
    assert result.dmarc_policy == "none"
    dkim = next(c for c in result.checks if c.spec.purpose is RecordPurpose.DKIM)
    assert dkim.found == (dkim_key.txt_record(),)


async def test_wrong_dkim_key_is_a_mismatch_showing_what_was_found(
    test_dns: TestDns, resolver: Resolver, dkim_key: SigningKey
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "wrongkey")
    other = generate_rsa_key().txt_record()
    dkim = _spec(specs, RecordPurpose.DKIM)
    wrong = DnsRecordSpec(dkim.purpose, dkim.type, dkim.name, other, (other,), True)
    test_dns.add_zone(domain, zone_text([wrong if s is dkim else s for s in specs]))
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    check = next(c for c in result.checks if c.spec.purpose is RecordPurpose.DKIM)
    assert check.status is CheckStatus.MISMATCH
    assert check.found == (other,)
    assert check.problem is not None
    assert "not this domain's key" in check.problem
    assert not result.is_verified


async def test_nothing_published_is_missing(
    test_dns: TestDns, resolver: Resolver, dkim_key: SigningKey
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "empty")
    test_dns.add_zone(domain, "www A 192.0.2.80")
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    assert {c.spec.purpose: c.status for c in result.checks} == dict.fromkeys(
        RecordPurpose, CheckStatus.MISSING
    )
    assert all(c.found == () and c.problem for c in result.checks)
    assert not result.is_verified
    assert result.dmarc_policy is None


async def test_servfail_is_a_dns_error(
    test_dns: TestDns, resolver: Resolver, dkim_key: SigningKey
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "servfail")
    test_dns.add_servfail_zone(domain)
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    assert {c.spec.purpose: c.status for c in result.checks} == dict.fromkeys(
        RecordPurpose, CheckStatus.DNS_ERROR
    )
    assert all("try again later" in (c.problem or "") for c in result.checks)
    assert not result.is_verified


@pytest.mark.parametrize(
    ("spf_record", "status", "problem_part"),
    [
        pytest.param(
            '"v=spf1 ip4:192.0.2.7 ip6:2001:db8::7 -all"',
            CheckStatus.MISMATCH,
            "192.0.2.8 gets fail",
            id="one-address-left-out",
        ),
        pytest.param(
            '"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all"',
            CheckStatus.VERIFIED,
            None,
            id="networks-cover-them",
        ),
        pytest.param(
            '"v=spf1 ip4:192.0.2.7 ip4:192.0.2.8 ?all"',
            CheckStatus.MISMATCH,
            "2001:db8::7 gets neutral",
            id="ipv6-left-out",
        ),
        pytest.param(
            '"v=spf1 include:spf.{domain} -all"',
            CheckStatus.VERIFIED,
            None,
            id="through-include",
        ),
        pytest.param(
            '"v=spf1 include:nowhere.{domain} -all"',
            CheckStatus.MISMATCH,
            "permerror",
            id="include-without-record",
        ),
        pytest.param(
            '"v=spf1 ip4:192.0.2.0/24 -all"\n{rp}. TXT "v=spf1 ?all"',
            CheckStatus.MISMATCH,
            "2 SPF records",
            id="two-records",
        ),
        pytest.param(
            '"google-site-verification=abc"',
            CheckStatus.MISSING,
            "no SPF record",
            id="only-another-txt",
        ),
    ],
)
async def test_spf_record_must_authorize_every_address(
    *,
    test_dns: TestDns,
    resolver: Resolver,
    dkim_key: SigningKey,
    spf_record: str,
    status: CheckStatus,
    problem_part: str | None,
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "spf")
    spf = _spec(specs, RecordPurpose.SPF)
    others = zone_text(s for s in specs if s is not spf)
    include = f'spf.{domain}. TXT "v=spf1 ip4:192.0.2.0/28 ip6:2001:db8::/64 -all"'
    record = spf_record.format(domain=domain, rp=spf.name)
    test_dns.add_zone(domain, f"{others}\n{include}\n{spf.name}. TXT {record}")
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    check = next(c for c in result.checks if c.spec.purpose is RecordPurpose.SPF)
    assert check.status is status
    assert result.is_verified is (status is CheckStatus.VERIFIED)
    if problem_part is None:
        assert check.problem is None
    else:
        assert check.problem is not None
        assert problem_part in check.problem


@pytest.mark.parametrize(
    ("published", "status", "policy", "problem_part"),
    [
        pytest.param(
            '"v=DMARC1; p=reject; aspf=s"',
            CheckStatus.VERIFIED,
            "reject",
            "aspf=s",
            id="strict-spf",
        ),
        pytest.param(
            '"v = DMARC1 ; p=quarantine; rua=mailto:d@{domain}"',
            CheckStatus.VERIFIED,
            "quarantine",
            None,
            id="spaces-and-reports",
        ),
        pytest.param('"v=DMARC1; p=bogus"', CheckStatus.MISMATCH, None, "p='bogus'", id="bad-p"),
        pytest.param(
            '"v=DMARC1; p=none"\n_dmarc TXT "v=DMARC1; p=reject"',
            CheckStatus.MISMATCH,
            None,
            "2 DMARC records",
            id="two-records",
        ),
        pytest.param('"p=reject; v=DMARC1"', CheckStatus.MISSING, None, "suggested", id="v-late"),
    ],
)
async def test_customer_dmarc_wins(
    *,
    test_dns: TestDns,
    resolver: Resolver,
    dkim_key: SigningKey,
    published: str,
    status: CheckStatus,
    policy: str | None,
    problem_part: str | None,
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "dmarc")
    dmarc = _spec(specs, RecordPurpose.DMARC)
    others = zone_text(s for s in specs if s is not dmarc)
    test_dns.add_zone(domain, f"{others}\n_dmarc TXT {published.format(domain=domain)}")
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    check = next(c for c in result.checks if c.spec.purpose is RecordPurpose.DMARC)
    assert check.status is status
    assert result.dmarc_policy == policy
    assert result.is_verified  # DMARC never decides verification
    if problem_part is None:
        assert check.problem is None
    else:
        assert problem_part in (check.problem or "")


async def test_no_source_address_leaves_spf_unverified_with_what_to_set(
    test_dns: TestDns, resolver: Resolver, dkim_key: SigningKey
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "noaddr")
    test_dns.add_zone(domain, zone_text(specs))
    result = await verify_domain(resolver, specs, ())
    statuses = _by_purpose(result)
    assert statuses[RecordPurpose.DKIM][0] is CheckStatus.VERIFIED
    assert statuses[RecordPurpose.SPF][0] is CheckStatus.MISMATCH
    assert "[delivery] spf_addresses" in (statuses[RecordPurpose.SPF][1] or "")
    assert not result.is_verified


async def test_an_address_that_is_not_an_ip_is_refused_before_any_lookup(
    test_dns: TestDns, resolver: Resolver, dkim_key: SigningKey
) -> None:
    _, specs = _setup(test_dns, dkim_key, "badaddr")
    with pytest.raises(NoSourceAddressesError):
        await verify_domain(resolver, specs, ("mta.example.net",))


async def test_missing_dmarc_and_mx_are_warnings_not_failures(
    test_dns: TestDns, resolver: Resolver, dkim_key: SigningKey
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "nodmarc")
    required = [s for s in specs if s.is_required]
    rp = _spec(specs, RecordPurpose.RETURN_PATH).name
    test_dns.add_zone(domain, f"{zone_text(required)}\n{rp}. MX 10 mx.elsewhere.example.")
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    statuses = _by_purpose(result)
    assert statuses[RecordPurpose.DMARC][0] is CheckStatus.MISSING
    assert "suggested: v=DMARC1; p=none" in (statuses[RecordPurpose.DMARC][1] or "")
    assert statuses[RecordPurpose.RETURN_PATH][0] is CheckStatus.MISMATCH
    assert result.is_verified
    assert result.dmarc_policy is None


@pytest.mark.parametrize(
    ("published", "problem_part"),
    [
        pytest.param('"v=DKIM1; k=rsa; p="', "revoked", id="revoked"),
        pytest.param('"v=DKIM1; k=ed25519; p={p}"', "k=ed25519", id="wrong-key-type"),
        pytest.param('"k=rsa; v=DKIM1; p={p}"', "come first", id="version-not-first"),
        pytest.param('"v=DKIM1; h=sha1; p={p}"', "sha256", id="sha1-only"),
        pytest.param(
            '"v=DKIM1; p={p}"\n{name}. TXT "v=DKIM1; k=rsa; p={p}"', "exactly one", id="two"
        ),
    ],
)
async def test_unusable_dkim_records(
    test_dns: TestDns,
    resolver: Resolver,
    dkim_key: SigningKey,
    published: str,
    problem_part: str,
) -> None:
    domain, specs = _setup(test_dns, dkim_key, "dkimbad")
    dkim = _spec(specs, RecordPurpose.DKIM)
    key = dkim_key.public_key_data()
    halves = f'{key[:200]}" "{key[200:]}'  # long keys need two strings
    text = published.format(p=halves, name=dkim.name)
    others = zone_text(s for s in specs if s is not dkim)
    test_dns.add_zone(domain, f"{others}\n{dkim.name}. TXT {text}")
    result = await verify_domain(resolver, specs, SOURCE_ADDRESSES)
    check = next(c for c in result.checks if c.spec.purpose is RecordPurpose.DKIM)
    assert check.status is CheckStatus.MISMATCH
    assert check.problem is not None
    assert problem_part in check.problem
