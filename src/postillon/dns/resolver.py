"""The resolver: dnspython's async stub resolver, a TTL cache, answers as plain values.

Owns: asking the configured name servers (``[dns] nameservers``, "address:port"; none = the
system's /etc/resolv.conf) for MX, A, AAAA, TXT and TLSA records; following CNAME chains an answer
left unfinished; turning dnspython's outcomes into :class:`postillon.dns.records.Answer`
values (a failure is a value, not an exception, so the pure MX walk can weigh it); and caching
them for their TTL on the injected clock. With ``[dns] dnssec`` the name servers are trusted
validating resolvers (as Postfix's ``smtp_dns_support_level = dnssec``: loopback or a trusted
path): queries carry DO and AD (RFC 6840 §5.7) and an answer is SECURE only when the reply had
AD set; a validation failure arrives as SERVFAIL (FAILED), with the resolver's extended error
(RFC 8914) in the reason when it sent one. We never validate signatures ourselves. It must
not decide routing (``mx.py`` does) and never raises for a lookup that failed, except in
:meth:`Resolver.txt` and :meth:`Resolver.addresses`, the shapes the MTA-STS layer asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import dns.asyncresolver
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TLSA
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.mxbase
import dns.rdtypes.txtbase
import dns.resolver
import dns.rrset

from postillon.clock import Clock
from postillon.config.settings import DnsSettings
from postillon.dns.cache import TtlCache
from postillon.dns.errors import DnsLookupError
from postillon.dns.nameservers import parse_nameserver
from postillon.dns.records import (
    Answer,
    MxRecord,
    RecordType,
    Security,
    Status,
    TlsaRecord,
    TxtRecord,
    normalize_name,
)
from postillon.errors import ConfigError

R = TypeVar("R")

# Positive answers are kept at most a day whatever their TTL says (Unbound's cache-max-ttl):
# a record fixed after a mistake is seen within a day.
MAX_TTL_S = 86_400
# RFC 2308 §5: negative answers live min(SOA TTL, SOA MINIMUM); "one to three hours" is what
# it calls sensible, so a zone asking for more is held to three.
MAX_NEGATIVE_TTL_S = 3 * 3600
# Queries one lookup may send while chasing a CNAME chain the name server left unfinished
# (dnspython itself follows 16 links inside one response); longer chains are broken zones.
MAX_CNAME_HOPS = 8
# A lost UDP query is sent again after this long, within the whole timeout (dnspython's default).
RETRY_AFTER_S = 2.0
# EDNS0 UDP payload size recommended by DNS Flag Day 2020: no IP fragmentation; larger
# answers (long TXT records) come over TCP after truncation.
EDNS_PAYLOAD = 1232


@dataclass(frozen=True)
class _Hop:
    status: Status
    canonical: dns.name.Name
    rrset: dns.rrset.RRset | None = None
    ttl_s: int = 0
    has_soa: bool = False
    reason: str = ""
    is_secure: bool = False


def _build_dnspython(settings: DnsSettings) -> dns.asyncresolver.Resolver:
    if settings.nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(*parse_nameserver(text)) for text in settings.nameservers
        ]
    else:
        try:
            resolver = dns.asyncresolver.Resolver(configure=True)
        except dns.exception.DNSException as exc:
            raise ConfigError(
                f"dns.nameservers is empty and the system resolver is: {exc}"
            ) from exc
    resolver.lifetime = settings.timeout_s
    resolver.timeout = min(settings.timeout_s, RETRY_AFTER_S)
    if settings.dnssec:
        # DO asks for signatures (RFC 3225), AD for the validator's verdict (RFC 6840 §5.7).
        resolver.use_edns(0, dns.flags.DO, EDNS_PAYLOAD)
        resolver.flags = dns.flags.RD | dns.flags.AD
    else:
        resolver.use_edns(0, 0, EDNS_PAYLOAD)
    return resolver


def _negative_ttl(response: dns.message.Message | None) -> int | None:
    """RFC 2308 §5: min(SOA TTL, SOA MINIMUM) from the authority section; None without SOA."""
    if response is None:
        return None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset) > 0:
            soa = cast(dns.rdtypes.ANY.SOA.SOA, rrset[0])
            return min(int(rrset.ttl), int(soa.minimum), MAX_NEGATIVE_TTL_S)
    return None


def _is_authenticated(response: dns.message.Message | None) -> bool:
    return response is not None and bool(response.flags & dns.flags.AD)


def _failure_detail(exc: dns.exception.DNSException) -> str:
    """dnspython's words, plus any RFC 8914 extended errors (e.g. "DNSSEC Bogus")."""
    text = str(exc) or type(exc).__name__
    details: list[str] = []
    for error in exc.kwargs.get("errors", ()) if isinstance(exc.kwargs, dict) else ():
        response = error[4] if len(error) > 4 else None
        if isinstance(response, dns.message.Message):
            for ede in response.extended_errors():
                code = dns.edns.EDECode.to_text(ede.code)
                suffix = f": {ede.text}" if ede.text else ""
                details.append(f"EDE {int(ede.code)} {code}{suffix}")
    return f"{text} ({'; '.join(dict.fromkeys(details))})" if details else text


def _name_text(name: dns.name.Name) -> str:
    return normalize_name(name.to_text())


def _mx(rdata: dns.rdata.Rdata) -> MxRecord:
    mx = cast(dns.rdtypes.mxbase.MXBase, rdata)
    return MxRecord(int(mx.preference), _name_text(mx.exchange))


def _address(rdata: dns.rdata.Rdata) -> str:
    return str(cast(dns.rdtypes.IN.A.A | dns.rdtypes.IN.AAAA.AAAA, rdata).address)


def _tlsa(rdata: dns.rdata.Rdata) -> TlsaRecord:
    tlsa = cast(dns.rdtypes.ANY.TLSA.TLSA, rdata)
    return TlsaRecord(int(tlsa.usage), int(tlsa.selector), int(tlsa.mtype), bytes(tlsa.cert))


def _txt(rdata: dns.rdata.Rdata) -> TxtRecord:
    txt = cast(dns.rdtypes.txtbase.TXTBase, rdata)
    return TxtRecord(tuple(bytes(s) for s in txt.strings))


class Resolver:
    """Looks up records through dnspython with a TTL cache; answers are :class:`Answer`."""

    def __init__(self, settings: DnsSettings, clock: Clock) -> None:
        self._dns = _build_dnspython(settings)
        self.dnssec = settings.dnssec
        self._cache: TtlCache[tuple[str, RecordType], Answer[Any]] = TtlCache(
            clock, settings.cache_max_entries
        )

    async def lookup_mx(self, name: str) -> Answer[MxRecord]:
        """The MX records of ``name`` (RFC 1035 §3.3.9)."""
        return await self._lookup(name, RecordType.MX, _mx)

    async def lookup_addresses(self, name: str, rdtype: RecordType) -> Answer[str]:
        """The A or AAAA records of ``name`` as address text."""
        if rdtype not in (RecordType.A, RecordType.AAAA):
            raise ValueError(f"not an address type: {rdtype}")
        return await self._lookup(name, rdtype, _address)

    async def lookup_txt(self, name: str) -> Answer[TxtRecord]:
        """The TXT records of ``name``, each with its character-strings kept apart."""
        return await self._lookup(name, RecordType.TXT, _txt)

    async def lookup_tlsa(self, name: str) -> Answer[TlsaRecord]:
        """The TLSA records at ``name`` (RFC 6698 §2), e.g. ``_25._tcp.mx.example``."""
        return await self._lookup(name, RecordType.TLSA, _tlsa)

    async def txt(self, name: str) -> list[str]:
        """Each TXT record at ``name`` as one string (its strings joined); [] for NXDOMAIN or
        NODATA. Raises DnsLookupError when the answer is unknown (SERVFAIL, timeout)."""
        answer = await self.lookup_txt(name)
        if answer.status is Status.FAILED:
            raise DnsLookupError(normalize_name(name), f"TXT lookup failed: {answer.reason}")
        return [record.text for record in answer.records]

    async def addresses(self, host: str) -> list[str]:
        """The IPv4 then IPv6 addresses of ``host``; [] when it has none.

        Raises DnsLookupError when neither lookup found an address and one of them failed.
        """
        answers = await asyncio.gather(
            self.lookup_addresses(host, RecordType.A),
            self.lookup_addresses(host, RecordType.AAAA),
        )
        found = [address for answer in answers for address in answer.records]
        failed = [a for a in answers if a.status is Status.FAILED]
        if not found and failed:
            reasons = "; ".join(f"{a.rdtype}: {a.reason}" for a in failed)
            raise DnsLookupError(normalize_name(host), f"address lookup failed: {reasons}")
        return found

    async def _lookup(
        self, name: str, rdtype: RecordType, convert: Callable[[dns.rdata.Rdata], R]
    ) -> Answer[R]:
        key = (normalize_name(name), rdtype)
        cached: Answer[R] | None = self._cache.get(key)
        if cached is not None:
            return cached
        answer = await self._resolve(key[0], rdtype, convert)
        # Failures are not cached: the next attempt asks again (RFC 2308 §7 allows a short
        # cache of them; the engine's retry backoff already spaces the attempts).
        if answer.status is not Status.FAILED:
            self._cache.put(key, answer, answer.ttl_s)
        return answer

    async def _resolve(
        self, name: str, rdtype: RecordType, convert: Callable[[dns.rdata.Rdata], R]
    ) -> Answer[R]:
        try:
            current = dns.name.from_text(name)
        except dns.exception.DNSException as exc:
            # A name DNS cannot even carry (label over 63 octets, name over 255) cannot exist.
            return Answer(name, rdtype, Status.NXDOMAIN, name, reason=f"not a domain name: {exc}")
        seen = {current}
        ttl_s = MAX_TTL_S
        is_secure = True
        for _ in range(MAX_CNAME_HOPS):
            hop = await self._query(current, rdtype)
            ttl_s = min(ttl_s, hop.ttl_s)
            is_secure = is_secure and hop.is_secure
            if hop.status is Status.NODATA and not hop.has_soa and hop.canonical != current:
                # The answer stopped at a CNAME whose target lies outside the server's zones
                # (an authoritative server answers only for its own data): ask for the target.
                if hop.canonical in seen:
                    return self._failed(name, rdtype, f"CNAME loop at {hop.canonical}")
                seen.add(hop.canonical)
                current = hop.canonical
                continue
            records = tuple(convert(rdata) for rdata in hop.rrset or ())
            security = Security.SECURE if is_secure else Security.INSECURE
            canonical = _name_text(hop.canonical)
            return Answer(name, rdtype, hop.status, canonical, records, ttl_s, hop.reason, security)
        return self._failed(name, rdtype, f"CNAME chain longer than {MAX_CNAME_HOPS}")

    @staticmethod
    def _failed(name: str, rdtype: RecordType, reason: str) -> Answer[Any]:
        return Answer(name, rdtype, Status.FAILED, name, reason=reason)

    async def _query(self, qname: dns.name.Name, rdtype: RecordType) -> _Hop:
        try:
            answer = await self._dns.resolve(
                qname, rdtype.value, search=False, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN as exc:
            responses: dict[dns.name.Name, dns.message.Message] = exc.kwargs.get("responses", {})
            response = responses.get(qname)
            ttl = _negative_ttl(response)
            secure = self.dnssec and _is_authenticated(response)
            return _Hop(
                Status.NXDOMAIN, exc.canonical_name, None, ttl or 0, ttl is not None, "", secure
            )
        except dns.exception.Timeout as exc:
            return _Hop(Status.FAILED, qname, reason=f"timed out: {exc}")
        except dns.exception.DNSException as exc:
            # NoNameservers (SERVFAIL, REFUSED, unreachable; a validating resolver's bogus
            # answer), YXDOMAIN, malformed answers.
            return _Hop(Status.FAILED, qname, reason=_failure_detail(exc))
        response = answer.response
        secure = self.dnssec and _is_authenticated(response)
        chain = response.resolve_chaining()
        if chain.answer is not None:
            return _Hop(
                Status.FOUND,
                chain.canonical_name,
                chain.answer,
                chain.minimum_ttl,
                is_secure=secure,
            )
        cname_ttls = [rrset.ttl for rrset in chain.cnames]
        negative = _negative_ttl(response)
        ttl = min([*cname_ttls, negative if negative is not None else 0])
        return _Hop(
            Status.NODATA, chain.canonical_name, None, ttl, negative is not None, "", secure
        )
