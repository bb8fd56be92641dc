"""The test oracles' DNS, pointed at the real test server: pyspf, dkimpy and authheaders each
look records up their own way; here each gets a function that asks knot with dnspython.

Also ``zone_text``: the records of a :class:`DnsRecordSpec` tuple as master-file lines, the
way a customer would publish them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from postillon.dns.nameservers import parse_nameserver
from postillon.domains import DnsRecordSpec, RecordKind

# Loopback to knot answers in milliseconds; a lost answer fails the oracle quickly.
ORACLE_TIMEOUT_S = 5.0

PyspfLookup = Callable[..., list[tuple[tuple[str, str], Any]]]


def sync_resolver(nameserver: str) -> dns.resolver.Resolver:
    """A dnspython resolver that asks only ``nameserver`` ("address:port")."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(nameserver))]
    resolver.lifetime = ORACLE_TIMEOUT_S
    return resolver


def pyspf_lookup(nameserver: str) -> PyspfLookup:
    """A replacement for ``spf.DNSLookup`` (pyspf's DNS hook) asking ``nameserver``; it returns
    what pyspf's own dnspython driver returns (``spf.DNSLookup_dnspython``), built on
    ``resolve`` where that driver calls the deprecated ``dns.resolver.query``."""
    import spf

    resolver = sync_resolver(nameserver)

    def lookup(
        name: str, qtype: str, strict: object = True, timeout: float = ORACLE_TIMEOUT_S
    ) -> list[tuple[tuple[str, str], Any]]:
        try:
            answer = resolver.resolve(name, qtype, search=False, lifetime=timeout)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise spf.TempError(f"DNS {exc}") from exc
        found: list[tuple[tuple[str, str], Any]] = []
        for rdata in answer:
            if qtype in ("A", "AAAA"):
                found.append(((name, qtype), rdata.address))
            elif qtype == "MX":
                found.append(((name, qtype), (rdata.preference, rdata.exchange)))
            elif qtype == "PTR":
                found.append(((name, qtype), rdata.target.to_text(True)))
            elif qtype in ("TXT", "SPF"):
                found.append(((name, qtype), rdata.strings))
        return found

    return lookup


def _first_txt(resolver: dns.resolver.Resolver, name: str) -> bytes | None:
    try:
        answer = resolver.resolve(name, dns.rdatatype.TXT, search=False)
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
        return None
    return b"".join(answer[0].strings)


def dkimpy_dnsfunc(nameserver: str) -> Callable[..., bytes | None]:
    """dkimpy's ``dnsfunc(name: bytes, timeout=5) -> bytes`` asking ``nameserver``."""
    resolver = sync_resolver(nameserver)

    def dnsfunc(name: bytes, timeout: float = ORACLE_TIMEOUT_S) -> bytes | None:
        return _first_txt(resolver, name.decode("ascii"))

    return dnsfunc


def dmarc_dnsfunc(nameserver: str) -> Callable[[str], str | None]:
    """authheaders' DMARC ``dnsfunc(name: str) -> str`` (the record text) asking ``nameserver``."""
    resolver = sync_resolver(nameserver)

    def dnsfunc(name: str) -> str | None:
        found = _first_txt(resolver, name)
        return found.decode("ascii") if found is not None else None

    return dnsfunc


def zone_text(specs: Iterable[DnsRecordSpec]) -> str:
    """Master-file lines (RFC 1035 §5) publishing ``specs``: TXT as their 255-octet strings,
    MX with an absolute host."""
    lines = []
    for spec in specs:
        if spec.type is RecordKind.TXT:
            strings = " ".join(f'"{s}"' for s in spec.value_strings)
            lines.append(f"{spec.name}. TXT {strings}")
        else:
            preference, host = spec.value.split()
            lines.append(f"{spec.name}. MX {preference} {host}.")
    return "\n".join(lines)
