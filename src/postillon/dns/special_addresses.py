"""Which IP addresses are not the public Internet, and why (pure).

Owns the special-purpose address table (RFC 6890 and its successors) for SSRF protection: a
webhook target, and an MX host we deliver to, must be a globally routable unicast address.
Addresses that embed an IPv4 address (NAT64 RFC 6052, 6to4 RFC 3056) are judged by the address
they embed; IPv4-mapped and -compatible IPv6 (RFC 4291 §2.5.5), Teredo and local-use NAT64 (RFC
8215) are refused outright. It must not parse URLs or apply an allowlist (``webhooks/guard.py``,
``dns/destinations.py``).
"""

from __future__ import annotations

import ipaddress
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6052 §2.1: the well-known NAT64 prefix; the IPv4 address is the last 32 bits.
NAT64_WELL_KNOWN: Final = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 3056 §2: 6to4; the IPv4 address is bits 16-47.
SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")

_V4: Final[tuple[tuple[str, str], ...]] = (
    ("0.0.0.0/8", "'this network' (RFC 1122 §3.2.1.3); 0.0.0.0 reaches the local host"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space / CGNAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback (RFC 1122)"),
    ("169.254.0.0/16", "link-local (RFC 3927), home of cloud metadata services"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    ("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
    ("192.31.196.0/24", "AS112 (RFC 7535)"),
    ("192.52.193.0/24", "AMT (RFC 7450)"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("192.175.48.0/24", "AS112 direct delegation (RFC 7534)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
    ("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
    ("224.0.0.0/4", "multicast (RFC 5771)"),
    ("240.0.0.0/4", "reserved (RFC 1112), including broadcast 255.255.255.255"),
)
_V6: Final[tuple[tuple[str, str], ...]] = (
    ("::/128", "unspecified (RFC 4291)"),
    ("::1/128", "loopback (RFC 4291)"),
    ("::ffff:0:0/96", "IPv4-mapped IPv6 (RFC 4291 §2.5.5.2)"),
    ("::/96", "deprecated IPv4-compatible IPv6 (RFC 4291 §2.5.5.1)"),
    ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("2001::/32", "Teredo (RFC 4380)"),
    ("2001:2::/48", "benchmarking (RFC 5180)"),
    ("2001:10::/28", "deprecated ORCHID (RFC 4843)"),
    ("2001:20::/28", "ORCHIDv2 (RFC 7343)"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("3fff::/20", "documentation (RFC 9637)"),
    ("5f00::/16", "SRv6 SIDs (RFC 9602)"),
    ("fc00::/7", "unique local (RFC 4193)"),
    ("fe80::/10", "link-local (RFC 4291)"),
    ("fec0::/10", "deprecated site-local (RFC 3879)"),
    ("ff00::/8", "multicast (RFC 4291)"),
    # Last: it contains 64:ff9b::/96 and 64:ff9b:1::/48 (0x0064 < 0x0100), which say more.
    ("::/8", "reserved (RFC 4291)"),
)
SPECIAL_NETWORKS: Final[tuple[tuple[IPNetwork, str], ...]] = tuple(
    (ipaddress.ip_network(cidr), why) for cidr, why in _V4 + _V6
)
# Never a unicast destination, whatever the allowlist says: 0.0.0.0 and :: connect to the local
# host on Linux, and a multicast "connection" is nonsense.
NEVER_ALLOWED: Final[tuple[IPNetwork, ...]] = tuple(
    ipaddress.ip_network(cidr) for cidr in ("0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8")
)
NEVER_ALLOWED_V4_BROADCAST: Final = ipaddress.IPv4Address("255.255.255.255")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address carries, if any."""
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    if address in SIX_TO_FOUR:
        return address.sixtofour
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` may not be a webhook target or an MX address, or None if it is globally
    routable unicast."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = refusal_reason(inner)
            if reason is None:
                return None
            return f"embeds {inner}, {reason}"
    for network, why in SPECIAL_NETWORKS:  # first match wins: specific before general
        if address in network:
            return why
    # Backstop for anything the table misses (and for future IANA registry entries Python knows).
    if not address.is_global:
        return "not globally routable"
    return None


def is_never_allowed(address: IPAddress) -> bool:
    """True for addresses no allowlist can permit (unspecified, multicast, broadcast)."""
    if address == NEVER_ALLOWED_V4_BROADCAST:
        return True
    return any(address in network for network in NEVER_ALLOWED)
