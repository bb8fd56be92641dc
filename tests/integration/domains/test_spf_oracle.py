"""Our SPF evaluation against pyspf's on the same records on the real test DNS server, and
pyspf's verdict on the records we tell customers to publish."""

from __future__ import annotations

from datetime import date

import pytest

from postillon.config.settings import DeliverySettings
from postillon.dkim import SigningKey, dated_selector
from postillon.dns.resolver import Resolver
from postillon.domains import (
    RecordPurpose,
    bounce_address,
    check_host,
    required_records,
    return_path_domain,
)
from tests.integration.domains.oracles import zone_text
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)

V4 = "192.0.2.7"
V6 = "2001:db8::7"


def _case(zone: str, client: str, expected: str, id: str) -> object:
    return pytest.param(zone, client, expected, id=id)


SPF_CASES = [
    _case('@ TXT "v=spf1 ip4:192.0.2.7 -all"', V4, "pass", "ip4-exact"),
    _case('@ TXT "v=spf1 ip4:192.0.2.0/24 -all"', V4, "pass", "ip4-network"),
    _case('@ TXT "v=spf1 ip4:198.51.100.1 -all"', V4, "fail", "dash-all"),
    _case('@ TXT "v=spf1 ip4:198.51.100.1 ~all"', V4, "softfail", "tilde-all"),
    _case('@ TXT "v=spf1 ip4:198.51.100.1"', V4, "neutral", "no-match-no-all"),
    _case('@ TXT "v=spf1 ?ip4:192.0.2.7 -all"', V4, "neutral", "question-qualifier"),
    _case('@ TXT "v=spf1 ip6:2001:db8::/32 -all"', V6, "pass", "ip6-network"),
    _case('@ TXT "v=spf1 ip4:0.0.0.0/0 -all"', V6, "fail", "ip4-never-matches-ip6"),
    _case('@ TXT "v=spf1 a -all"\n@ A 192.0.2.7', V4, "pass", "a-own-name"),
    _case('@ TXT "v=spf1 a:h.{o}/24 -all"\nh A 192.0.2.99', V4, "pass", "a-cidr"),
    _case('@ TXT "v=spf1 a//64 -all"\n@ AAAA 2001:db8::1', V6, "pass", "a-ip6-cidr"),
    _case('@ TXT "v=spf1 mx -all"\n@ MX 10 mx\nmx A 192.0.2.7', V4, "pass", "mx"),
    _case('@ TXT "v=spf1 mx:{o} -all"\n@ MX 10 mx\nmx A 192.0.2.8', V4, "fail", "mx-other"),
    _case(
        '@ TXT "v=spf1 include:inc.{o} -all"\ninc TXT "v=spf1 ip4:192.0.2.7 -all"',
        V4,
        "pass",
        "include-pass",
    ),
    _case(
        '@ TXT "v=spf1 include:inc.{o} ~all"\ninc TXT "v=spf1 -all"',
        V4,
        "softfail",
        "include-fail-is-no-match",
    ),
    _case('@ TXT "v=spf1 include:none.{o} -all"', V4, "permerror", "include-none"),
    _case(
        '@ TXT "v=spf1 redirect=red.{o}"\nred TXT "v=spf1 ip4:192.0.2.7 -all"',
        V4,
        "pass",
        "redirect",
    ),
    _case('@ TXT "v=spf1 exists:ok.{o} -all"\nok A 127.0.0.2', V4, "pass", "exists"),
    _case('@ TXT "v=spf1 -all"\n@ TXT "v=spf1 +all"', V4, "permerror", "two-records"),
    _case('@ TXT "hello"', V4, "none", "no-record"),
    _case('@ TXT "v=spf1 moo -all"', V4, "permerror", "unknown-mechanism"),
    _case(
        '@ TXT "v=spf1 a:v1.{o} a:v2.{o} a:v3.{o} ip4:192.0.2.7"',
        V4,
        "permerror",
        "three-void-lookups",
    ),
    _case(
        '@ TXT "v=spf1 '
        + " ".join(f"include:i{n}.{{o}}" for n in range(11))
        + ' ip4:192.0.2.7"\n'
        + "\n".join(f'i{n} TXT "v=spf1 ?all"' for n in range(11)),
        V4,
        "permerror",
        "eleven-lookups",
    ),
]


@pytest.mark.usefixtures("pyspf_on_test_dns")
@pytest.mark.parametrize(("zone", "client", "expected"), SPF_CASES)
async def test_check_host_agrees_with_pyspf(
    test_dns: TestDns, resolver: Resolver, zone: str, client: str, expected: str
) -> None:
    import spf

    origin = test_dns.new_origin("spf")
    test_dns.add_zone(origin, zone.replace("{o}", origin))
    ours = await check_host(resolver, client, origin)
    theirs, _ = spf.check2(i=client, s=f"someone@{origin}", h="mta.example")
    assert (ours.result.value, theirs) == (expected, expected), ours.reason


@pytest.mark.usefixtures("pyspf_on_test_dns")
async def test_servfail_is_temperror_for_both(test_dns: TestDns, resolver: Resolver) -> None:
    import spf

    origin = test_dns.new_origin("spffail")
    test_dns.add_servfail_zone(origin)
    ours = await check_host(resolver, V4, origin)
    theirs, _ = spf.check2(i=V4, s=f"someone@{origin}", h="mta.example")
    assert (ours.result.value, theirs) == ("temperror", "temperror")


@pytest.mark.usefixtures("pyspf_on_test_dns")
def test_pyspf_passes_our_addresses_on_the_return_path(
    test_dns: TestDns, dkim_key: SigningKey
) -> None:
    import spf

    domain = test_dns.new_origin("rp")
    ours = ("192.0.2.7", "192.0.2.8", "192.0.2.9", "2001:db8::7")
    delivery = DeliverySettings(helo_name=f"mta.{domain}", source_addresses=ours)
    selector = dated_selector(date(2026, 11, 29), lambda n: b"\x07" * n)
    specs = required_records(domain, selector, dkim_key.txt_record(), delivery)
    spf_spec = next(s for s in specs if s.purpose is RecordPurpose.SPF)
    assert spf_spec.name == return_path_domain(domain)
    test_dns.add_zone(domain, zone_text(specs))
    sender = bounce_address(domain, "msg_01jabc")
    assert sender == f"bounces+msg_01jabc@pstbounces.{domain}"
    for address in ours:
        assert spf.check2(i=address, s=sender, h=delivery.helo_name)[0] == "pass", address
    for stranger in ("192.0.2.10", "198.51.100.7", "2001:db8::8"):
        assert spf.check2(i=stranger, s=sender, h=delivery.helo_name)[0] == "fail", stranger
