"""check_host on records served from memory: the limits postillon documents (no macros, ptr
never matches) and that no record text makes it raise. Agreement with pyspf on real DNS is in
tests/integration/domains/test_spf_oracle.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postillon.dns.records import Answer, MxRecord, RecordType, Status, TxtRecord
from postillon.domains import SpfResult, check_host


class ZoneLookup:
    """TXT records from a dict; every other name and type is NXDOMAIN."""

    def __init__(self, txt: dict[str, str]) -> None:
        self._txt = txt

    async def lookup_txt(self, name: str) -> Answer[TxtRecord]:
        if name not in self._txt:
            return Answer(name, RecordType.TXT, Status.NXDOMAIN, name)
        record = TxtRecord((self._txt[name].encode(),))
        return Answer(name, RecordType.TXT, Status.FOUND, name, (record,), 300)

    async def lookup_mx(self, name: str) -> Answer[MxRecord]:
        return Answer(name, RecordType.MX, Status.NXDOMAIN, name)

    async def lookup_addresses(self, name: str, rdtype: RecordType) -> Answer[str]:
        return Answer(name, rdtype, Status.NXDOMAIN, name)


@pytest.mark.parametrize(
    ("record", "result", "reason_part"),
    [
        pytest.param("v=spf1 exists:%{i}.x.example -all", "permerror", "macros", id="macro"),
        pytest.param("v=spf1 include:%{d2} -all", "permerror", "macros", id="macro-include"),
        pytest.param("v=spf1 ptr ~all", "softfail", "~all", id="ptr-never-matches"),
        pytest.param("V=SPF1 IP4:192.0.2.7 -ALL", "pass", "ip4", id="case-insensitive"),
        pytest.param("v=spf1 ip4:192.0.2.7 redirect=a redirect=b", "permerror", "twice", id="2rd"),
        pytest.param("v=spf1 ip4:192.0.2.300 -all", "permerror", "ip4", id="bad-ip4"),
        pytest.param("v=spf1 ip6:192.0.2.0/24 -all", "permerror", "not an IPv6", id="ip4-as-ip6"),
        pytest.param("v=spf1 a/33 -all", "permerror", "33", id="cidr-too-long"),
        pytest.param("v=spf1 a: -all", "permerror", "domain", id="a-colon-nothing"),
        pytest.param("v=spf1 exp=explain.example ?all", "neutral", "?all", id="exp-ignored"),
        pytest.param("v=spf1x ip4:192.0.2.7", "none", "no SPF record", id="not-spf1"),
    ],
)
async def test_check_host_cases(record: str, result: str, reason_part: str) -> None:
    verdict = await check_host(ZoneLookup({"d.example": record}), "192.0.2.7", "d.example")
    assert verdict.result == SpfResult(result)
    assert reason_part in verdict.reason


_FRAGMENTS = st.sampled_from(
    ["all", "-", "~", "?", "+", "a", "mx", "ptr", "ip4:", "ip6:", "include:", "exists:"]
)
_ARGUMENTS = st.sampled_from(
    ["redirect=", "exp=", "/", "//", "%{i}", "d.example", "include.example", "192.0.2.7", "24"]
)
_TERMS = st.lists(st.one_of(_FRAGMENTS, _ARGUMENTS, st.text(max_size=4)), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    terms=st.lists(_TERMS.map("".join), max_size=10),
    client=st.sampled_from(["192.0.2.7", "2001:db8::7"]),
)
async def test_no_record_makes_check_host_raise(terms: list[str], client: str) -> None:
    record = "v=spf1 " + " ".join(terms)
    lookup = ZoneLookup({"d.example": record, "include.example": record})
    verdict = await check_host(lookup, client, "d.example")
    assert verdict.result in SpfResult
