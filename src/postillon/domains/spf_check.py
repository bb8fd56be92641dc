"""SPF evaluation (RFC 7208 §4) of one client address against one domain, over DNS.

Owns: ``check_host()`` for the records customers publish for us: the ``ip4``, ``ip6``, ``a``,
``mx``, ``include``, ``exists`` and ``all`` mechanisms with qualifiers, the ``redirect``
modifier, the limits of §4.6.4 (10 DNS-querying terms, 2 void lookups, 10 MX names) and the
record selection of §4.5. It does not expand macros (§7): a term that uses one gives a
``permerror`` saying so, since postillon cannot confirm it; ``ptr`` (§5.5, "SHOULD NOT be
used") never matches. It must not decide what a result means for a domain (``verify`` does).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass

from postillon.dns.records import RecordType, Status, normalize_name
from postillon.domains.lookup import DnsLookup

# RFC 7208 §4.6.4: at most 10 mechanisms and modifiers that cause DNS queries.
MAX_DNS_TERMS = 10
# RFC 7208 §4.6.4: more than 2 lookups that return no record is a permerror.
MAX_VOID_LOOKUPS = 2
# RFC 7208 §4.6.4: an "mx" mechanism looks at no more than 10 MX names.
MAX_MX_NAMES = 10
# RFC 7208 §4.5: "v=spf1" followed by a space or the end of the record, case-insensitive.
_VERSION = re.compile(r"v=spf1(?: |$)", re.IGNORECASE)
# RFC 7208 §4.6.1: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)")
# RFC 7208 §5.3, §5.4: domain-spec, then ip4-cidr-length, then "//" ip6-cidr-length.
_DUAL_CIDR = re.compile(r"(?P<domain>[^/]*)(?:/(?P<v4>\d{1,2}))?(?://(?P<v6>\d{1,3}))?")


class SpfResult(enum.StrEnum):
    """The results of RFC 7208 §2.6."""

    PASS = "pass"  # noqa: S105 (an SPF result, not a password)
    FAIL = "fail"
    SOFTFAIL = "softfail"
    NEUTRAL = "neutral"
    NONE = "none"
    PERMERROR = "permerror"
    TEMPERROR = "temperror"


# RFC 7208 §5: every mechanism there is; anything else is a permerror.
_MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
_QUALIFIERS = {
    "+": SpfResult.PASS,
    "-": SpfResult.FAIL,
    "~": SpfResult.SOFTFAIL,
    "?": SpfResult.NEUTRAL,
}


@dataclass(frozen=True)
class SpfVerdict:
    """The result for one address and why (the deciding term, or the error)."""

    result: SpfResult
    reason: str


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


def is_spf_record(text: str) -> bool:
    """True if ``text`` is an SPF record (RFC 7208 §4.5)."""
    return _VERSION.match(text) is not None


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


async def check_host(lookup: DnsLookup, address: str, domain: str) -> SpfVerdict:
    """The SPF result for mail from ``address`` whose MAIL FROM domain is ``domain``."""
    evaluation = _Evaluation(lookup, ipaddress.ip_address(address))
    try:
        result, reason = await evaluation.check(normalize_name(domain))
    except _PermError as exc:
        return SpfVerdict(SpfResult.PERMERROR, str(exc))
    except _TempError as exc:
        return SpfVerdict(SpfResult.TEMPERROR, str(exc))
    return SpfVerdict(result, reason)


class _Evaluation:
    """One check_host() run: the client address and the §4.6.4 counters it shares."""

    def __init__(self, lookup: DnsLookup, address: Address) -> None:
        self._lookup = lookup
        self._address = address
        self._dns_terms = 0
        self._void_lookups = 0

    async def check(self, domain: str) -> tuple[SpfResult, str]:
        record = await self._record(domain)
        if record is None:
            return SpfResult.NONE, f"no SPF record at {domain}"
        mechanisms, redirect = _parse(record)
        for qualifier, name, argument in mechanisms:
            if await self._matches(domain, name, argument):
                term = f"{name}:{argument}" if argument is not None else name
                return _QUALIFIERS[qualifier], f"{domain}: matched {qualifier}{term}"
        if redirect is not None:
            # RFC 7208 §6.1: redirect counts as a DNS term; a target without a record is a
            # permerror.
            self._count_dns_term()
            target = _domain_spec(redirect)
            result, reason = await self.check(target)
            if result is SpfResult.NONE:
                raise _PermError(f"redirect={target} has no SPF record")
            return result, reason
        return SpfResult.NEUTRAL, f"{domain}: no mechanism matched"

    async def _record(self, domain: str) -> str | None:
        answer = await self._lookup.lookup_txt(domain)
        if answer.status is Status.FAILED:
            raise _TempError(f"TXT lookup of {domain} failed: {answer.reason}")
        records = [r.text for r in answer.records if is_spf_record(r.text)]
        if len(records) > 1:
            raise _PermError(f"{domain} has {len(records)} SPF records (RFC 7208 §4.5)")
        return records[0] if records else None

    def _count_dns_term(self) -> None:
        self._dns_terms += 1
        if self._dns_terms > MAX_DNS_TERMS:
            raise _PermError(f"more than {MAX_DNS_TERMS} DNS-querying terms (RFC 7208 §4.6.4)")

    def _count_void(self, status: Status) -> None:
        if status.is_negative:
            self._void_lookups += 1
            if self._void_lookups > MAX_VOID_LOOKUPS:
                raise _PermError(f"more than {MAX_VOID_LOOKUPS} void lookups (RFC 7208 §4.6.4)")

    async def _matches(self, domain: str, name: str, argument: str | None) -> bool:
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            return self._in_network(name, argument)
        self._count_dns_term()
        if name == "include":
            return await self._include(_domain_spec(argument))
        if name == "exists":
            answer = await self._lookup.lookup_addresses(_domain_spec(argument), RecordType.A)
            self._check_failed(answer.status, answer.reason)
            self._count_void(answer.status)
            return bool(answer.records)
        if name == "ptr":
            return False
        spec = _DUAL_CIDR.fullmatch(argument or "")
        if spec is None:
            raise _PermError(f"bad {name} argument {argument!r}")
        has_domain = argument is not None and not argument.startswith("/")
        target = _domain_spec(spec["domain"]) if has_domain else domain
        prefix = _prefix(self._address, spec["v4"], spec["v6"])
        if name == "a":
            return await self._host_matches(target, prefix)
        if name == "mx":
            return await self._mx_matches(target, prefix)
        raise AssertionError(f"unparsed mechanism {name!r}")  # _parse admits only known names

    def _in_network(self, name: str, argument: str | None) -> bool:
        try:
            network = ipaddress.ip_network(argument or "", strict=False)
        except ValueError:
            raise _PermError(f"bad {name} argument {argument!r}") from None
        if (name == "ip4") != (network.version == 4):
            raise _PermError(f"{name}:{argument} is not an IPv{name[-1]} network")
        return network.version == self._address.version and self._address in network

    async def _include(self, target: str) -> bool:
        result, reason = await self.check(target)
        # RFC 7208 §5.2: the table of include results.
        if result is SpfResult.PASS:
            return True
        if result is SpfResult.TEMPERROR:
            raise _TempError(reason)
        if result in (SpfResult.PERMERROR, SpfResult.NONE):
            raise _PermError(f"include:{target}: {result.value} ({reason})")
        return False

    async def _host_matches(self, host: str, prefix: int) -> bool:
        rdtype = RecordType.A if self._address.version == 4 else RecordType.AAAA
        answer = await self._lookup.lookup_addresses(host, rdtype)
        self._check_failed(answer.status, answer.reason)
        self._count_void(answer.status)
        return any(
            self._address in ipaddress.ip_network(f"{found}/{prefix}", strict=False)
            for found in answer.records
        )

    async def _mx_matches(self, target: str, prefix: int) -> bool:
        answer = await self._lookup.lookup_mx(target)
        self._check_failed(answer.status, answer.reason)
        self._count_void(answer.status)
        hosts = [mx.exchange for mx in answer.records if not mx.is_null]
        if len(hosts) > MAX_MX_NAMES:
            raise _PermError(f"{target} has more than {MAX_MX_NAMES} MX names (RFC 7208 §4.6.4)")
        for host in hosts:
            if await self._host_matches(host, prefix):
                return True
        return False

    @staticmethod
    def _check_failed(status: Status, reason: str) -> None:
        if status is Status.FAILED:
            raise _TempError(f"DNS lookup failed: {reason}")


def _parse(record: str) -> tuple[list[tuple[str, str, str | None]], str | None]:
    """The mechanisms (qualifier, lower-case name, argument or None) and the redirect target.

    RFC 7208 §4.6: a syntax error anywhere makes the whole record a permerror.
    """
    mechanisms: list[tuple[str, str, str | None]] = []
    redirect: str | None = None
    for term in record.split()[1:]:
        modifier = _MODIFIER.fullmatch(term)
        if modifier is not None:
            if modifier[1].lower() == "redirect":
                if redirect is not None:
                    raise _PermError("redirect appears twice (RFC 7208 §6)")
                redirect = modifier[2]
            continue  # exp= and unknown modifiers do not change the result (§6.2, §6)
        qualifier = term[0] if term[0] in _QUALIFIERS else "+"
        body = term[1:] if term[0] in _QUALIFIERS else term
        name, colon, argument = body.partition(":")
        if not colon and "/" in name:
            name, slash, cidr = name.partition("/")
            argument, colon = slash + cidr, slash
        if name.lower() not in _MECHANISMS:
            raise _PermError(f"unknown mechanism {term!r} (RFC 7208 §5)")
        mechanisms.append((qualifier, name.lower(), argument if colon else None))
    return mechanisms, redirect


def _domain_spec(text: str | None) -> str:
    if not text:
        raise _PermError("a mechanism needs a domain")
    if "%" in text:
        raise _PermError(f"{text!r} uses SPF macros, which postillon does not evaluate")
    return normalize_name(text)


def _prefix(address: Address, v4: str | None, v6: str | None) -> int:
    chosen, maximum = (v4, 32) if address.version == 4 else (v6, 128)
    prefix = int(chosen) if chosen is not None else maximum
    if prefix > maximum:
        raise _PermError(f"CIDR length {prefix} is over {maximum}")
    return prefix
