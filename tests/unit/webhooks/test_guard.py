"""The SSRF matrix: URLs and resolved addresses the guard refuses or lets through."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.config.settings import WebhookSettings
from postillon.errors import ConfigError
from postillon.webhooks.errors import UnsafeTargetError
from postillon.webhooks.guard import MAX_ADDRESSES, TargetGuard

GUARD = TargetGuard()

REFUSED_URLS = [
    # schemes
    pytest.param("ftp://example.com/", "scheme", id="ftp"),
    pytest.param("file:///etc/passwd", "scheme", id="file"),
    pytest.param("gopher://example.com:25/", "scheme", id="gopher"),
    pytest.param("javascript:alert(1)", "scheme", id="javascript"),
    pytest.param("//example.com/hook", "scheme", id="scheme-relative"),
    # userinfo tricks
    pytest.param("http://example.com@127.0.0.1/", "userinfo", id="userinfo-host-swap"),
    pytest.param("http://user:pw@example.com/", "userinfo", id="credentials"),
    pytest.param("http://example.com%40127.0.0.1/", "not a host name", id="encoded-at"),
    pytest.param("http://127.0.0.1\\@example.com/", "not a URL", id="backslash-authority"),
    # numeric IPv4 forms that inet_aton / browsers read as 127.0.0.1
    pytest.param("http://2130706433/", "numeric IPv4", id="decimal"),
    pytest.param("http://0x7f000001/", "numeric IPv4", id="hex"),
    pytest.param("http://0x7f.1/", "numeric IPv4", id="hex-two-parts"),
    pytest.param("http://017700000001/", "numeric IPv4", id="octal"),
    pytest.param("http://0177.0.0.1/", "numeric IPv4", id="octal-dotted"),
    pytest.param("http://127.1/", "numeric IPv4", id="short-dotted"),
    pytest.param("http://127.0.0.1.1/", "numeric IPv4", id="five-parts"),
    pytest.param("http://example.0x7f/", "numeric IPv4", id="ends-in-hex"),
    # literal special addresses
    pytest.param("http://127.0.0.1/", "loopback", id="v4-loopback"),
    pytest.param("http://127.0.0.1./", "loopback", id="v4-loopback-trailing-dot"),
    pytest.param("http://10.1.2.3/", "private", id="rfc1918-10"),
    pytest.param("http://172.16.0.1/", "private", id="rfc1918-172"),
    pytest.param("http://192.168.1.1/", "private", id="rfc1918-192"),
    pytest.param("http://169.254.169.254/latest/meta-data/", "link-local", id="cloud-metadata"),
    pytest.param("http://100.64.0.1/", "CGNAT", id="cgnat"),
    pytest.param("http://0.0.0.0/", "never", id="v4-unspecified"),
    pytest.param("http://224.0.0.1/", "never", id="v4-multicast"),
    pytest.param("http://255.255.255.255/", "never", id="broadcast"),
    pytest.param("http://240.0.0.1/", "reserved", id="v4-reserved"),
    pytest.param("http://192.0.2.1/", "documentation", id="test-net-1"),
    pytest.param("http://198.51.100.1/", "documentation", id="test-net-2"),
    pytest.param("http://203.0.113.1/", "documentation", id="test-net-3"),
    pytest.param("http://198.18.0.1/", "benchmarking", id="benchmarking"),
    pytest.param("http://[::1]/", "loopback", id="v6-loopback"),
    pytest.param("http://[::]/", "never", id="v6-unspecified"),
    pytest.param("http://[fc00::1]/", "unique local", id="ula-fc"),
    pytest.param("http://[fd12:3456::1]/", "unique local", id="ula-fd"),
    pytest.param("http://[fe80::1]/", "link-local", id="v6-link-local"),
    pytest.param("http://[fe80::1%25eth0]/", "zone", id="v6-zone-id"),
    pytest.param("http://[ff02::1]/", "never", id="v6-multicast"),
    pytest.param("http://[2001:db8::1]/", "documentation", id="v6-documentation"),
    pytest.param("http://[::ffff:127.0.0.1]/", "IPv4-mapped", id="mapped-loopback"),
    pytest.param("http://[::ffff:7f00:1]/", "IPv4-mapped", id="mapped-loopback-hex"),
    pytest.param("http://[::ffff:8.8.8.8]/", "IPv4-mapped", id="mapped-public"),
    pytest.param("http://[::127.0.0.1]/", "IPv4-compatible", id="v4-compatible"),
    pytest.param("http://[64:ff9b::127.0.0.1]/", "embeds 127.0.0.1", id="nat64-loopback"),
    pytest.param("http://[64:ff9b::a9fe:a9fe]/", "embeds 169.254.169.254", id="nat64-metadata"),
    pytest.param("http://[64:ff9b::c0a8:101]/", "embeds 192.168.1.1", id="nat64-private"),
    pytest.param("http://[64:ff9b:1::808:808]/", "local-use NAT64", id="nat64-local-use"),
    pytest.param("http://[2002:7f00:1::1]/", "embeds 127.0.0.1", id="6to4-loopback"),
    pytest.param("http://[2002:a00:1::1]/", "embeds 10.0.0.1", id="6to4-private"),
    pytest.param("http://[2001:0:4136:e378::1]/", "Teredo", id="teredo"),
    # names
    pytest.param("http://localhost/", "localhost", id="localhost"),
    pytest.param("http://LOCALHOST.:8080/", "localhost", id="localhost-upper-dot"),
    pytest.param("http://api.localhost/", "localhost", id="localhost-subdomain"),
    pytest.param("http://exa mple.com/", "whitespace", id="space-in-host"),
    pytest.param("http://example.com:0/", "port", id="port-zero"),
    pytest.param("http:///path", "host", id="no-host"),
    pytest.param("http://" + "a" * 2100 + ".com/", "longer", id="too-long"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED_URLS)
def test_refused_urls(url: str, why: str) -> None:
    with pytest.raises(UnsafeTargetError, match=why):
        GUARD.vet(url, ["93.184.215.14"])


RESOLVED_TO = [
    pytest.param(["127.0.0.1"], "loopback", id="a-loopback"),
    pytest.param(["10.0.0.7"], "private", id="a-private"),
    pytest.param(["169.254.169.254"], "link-local", id="a-metadata"),
    pytest.param(["100.100.100.200"], "CGNAT", id="a-cgnat"),
    pytest.param(["0.0.0.0"], "never", id="a-unspecified"),
    pytest.param(["::1"], "loopback", id="aaaa-loopback"),
    pytest.param(["::ffff:127.0.0.1"], "IPv4-mapped", id="aaaa-mapped"),
    pytest.param(["64:ff9b::7f00:1"], "embeds 127.0.0.1", id="aaaa-nat64"),
    pytest.param(["fd00::1"], "unique local", id="aaaa-ula"),
    pytest.param(["fe80::1%eth0"], "link-local", id="aaaa-scoped-link-local"),
    pytest.param(["93.184.215.14", "127.0.0.1"], "loopback", id="public-and-loopback"),
    pytest.param(["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::1"], "loopback", id="mixed-v6"),
    pytest.param([], "no address", id="no-answer"),
    pytest.param(["not-an-ip"], "not an IP", id="garbage-answer"),
    pytest.param(["93.184.215.14"] * (MAX_ADDRESSES + 1), "more than", id="too-many-answers"),
]


@pytest.mark.parametrize(("addresses", "why"), RESOLVED_TO)
def test_names_resolving_to_refused_addresses(addresses: list[str], why: str) -> None:
    with pytest.raises(UnsafeTargetError, match=why):
        GUARD.vet("https://hooks.example.com/in", addresses)


ACCEPTED = [
    pytest.param("https://hooks.example.com/in", ["93.184.215.14"], id="public-name"),
    pytest.param("http://hooks.example.com:8080/x?y=1", ["8.8.8.8", "1.1.1.1"], id="two-a"),
    pytest.param("https://h.example/", ["2606:4700:4700::1111"], id="public-aaaa"),
    pytest.param("https://8.8.8.8/", [], id="public-v4-literal"),
    pytest.param("https://[2606:4700:4700::1111]:8443/", [], id="public-v6-literal"),
    pytest.param("https://[64:ff9b::808:808]/", [], id="nat64-of-public"),
    pytest.param("https://[2002:808:808::1]/", [], id="6to4-of-public"),
    pytest.param("https://xn--bcher-kva.example/", ["8.8.4.4"], id="punycode"),
    pytest.param("https://b\u00fccher.example/", ["8.8.4.4"], id="idn"),
    pytest.param("https://my_host.example.com/", ["8.8.4.4"], id="underscore"),
    pytest.param("https://1password.com/", ["8.8.4.4"], id="leading-digit-label"),
]


@pytest.mark.parametrize(("url", "addresses"), ACCEPTED)
def test_accepted_targets_keep_the_vetted_addresses(url: str, addresses: list[str]) -> None:
    target = GUARD.vet(url, addresses)
    if addresses:
        assert list(target.addresses) == [ipaddress.ip_address(a) for a in addresses]
    else:
        assert target.url.address is not None
        assert target.addresses == (target.url.address,)


def test_duplicate_answers_are_kept_once() -> None:
    target = GUARD.vet("https://h.example/", ["8.8.8.8", "8.8.8.8", "1.1.1.1"])
    assert [str(a) for a in target.addresses] == ["8.8.8.8", "1.1.1.1"]


ALLOWLIST = TargetGuard.from_settings(
    WebhookSettings(allow_private_networks=("127.0.0.80/30", "fd00:80::/64"))
)


@pytest.mark.parametrize(
    ("url", "addresses", "allowed"),
    [
        pytest.param("http://127.0.0.81:8080/", [], True, id="listed-literal"),
        pytest.param("http://hook.test/", ["127.0.0.83"], True, id="listed-resolved"),
        pytest.param("http://[fd00:80::5]/", [], True, id="listed-v6"),
        pytest.param("http://127.0.0.84/", [], False, id="next-to-the-list"),
        pytest.param("http://127.0.0.1/", [], False, id="other-loopback"),
        pytest.param("http://hook.test/", ["127.0.0.81", "10.0.0.1"], False, id="one-unlisted"),
        pytest.param("http://[::ffff:127.0.0.81]/", [], False, id="mapped-form-not-listed"),
        pytest.param("http://2130706513/", [], False, id="decimal-form-of-listed"),
        pytest.param("http://localhost/", [], False, id="localhost-name"),
        pytest.param("http://8.8.8.8/", [], True, id="public-still-fine"),
    ],
)
def test_the_allowlist_permits_only_listed_networks(
    url: str, addresses: list[str], allowed: bool
) -> None:
    if allowed:
        ALLOWLIST.vet(url, addresses)
    else:
        with pytest.raises(UnsafeTargetError):
            ALLOWLIST.vet(url, addresses)


def test_no_allowlist_entry_permits_unspecified_or_multicast() -> None:
    everything = TargetGuard.from_settings(
        WebhookSettings(allow_private_networks=("0.0.0.0/0", "::/0"))
    )
    everything.vet("http://10.0.0.1/")
    for url in ("http://0.0.0.0/", "http://224.0.0.1/", "http://[::]/", "http://[ff02::1]/"):
        with pytest.raises(UnsafeTargetError, match="never"):
            everything.vet(url)


@pytest.mark.parametrize(
    "cidr",
    [
        pytest.param("127.0.0.80/24", id="host-bits-set"),
        pytest.param("localhost", id="name"),
        pytest.param("127.0.0.80/33", id="bad-prefix"),
    ],
)
def test_a_bad_allowlist_entry_names_the_key(cidr: str) -> None:
    with pytest.raises(ConfigError, match=r"webhooks\.allow_private_networks"):
        TargetGuard.from_settings(WebhookSettings(allow_private_networks=(cidr,)))


@given(st.text(max_size=120))
def test_any_text_is_accepted_or_refused_with_our_error(text: str) -> None:
    try:
        target = GUARD.check_url(text)
    except UnsafeTargetError:
        return
    assert target.url.scheme in {"http", "https"}
    assert target.url.user is None
    if target.address is not None:
        assert target.address.is_global


@given(st.ip_addresses())
def test_every_literal_address_is_judged_consistently(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    host = f"[{address}]" if address.version == 6 else str(address)
    try:
        GUARD.check_url(f"http://{host}/")
    except UnsafeTargetError:
        return
    assert address.is_global or str(address).startswith(("64:ff9b:", "2002:"))


@st.composite
def inet_aton_forms(draw: st.DrawFn) -> str:
    """An IPv4 address in one of the notations inet_aton accepts, other than dotted decimal."""
    value = draw(st.integers(0, 2**32 - 1))
    count = draw(st.integers(1, 4))
    octets = value.to_bytes(4, "big")
    parts = [*octets[: count - 1], int.from_bytes(octets[count - 1 :], "big")]
    radixes = draw(st.lists(st.sampled_from(["dec", "oct", "hex"]), min_size=count, max_size=count))
    if count == 4 and set(radixes) == {"dec"}:
        radixes[0] = "hex"
    hex_prefix = draw(st.sampled_from(["0x", "0X"]))

    def spell(radix: str, number: int) -> str:
        if radix == "oct":
            return "0" + format(number, "o")
        if radix == "hex":
            return hex_prefix + format(number, "x")
        return str(number)

    return ".".join(spell(r, p) for r, p in zip(radixes, parts, strict=True))


@given(inet_aton_forms())
def test_no_legacy_ipv4_spelling_gets_through(host: str) -> None:
    with pytest.raises(UnsafeTargetError, match="non-canonical numeric IPv4"):
        GUARD.check_url(f"http://{host}/hook")
