"""Checking through DNS that a customer published the records of :mod:`.records`.

Owns: one :class:`RecordCheck` per record (verified, missing, mismatch, dns_error; what was
found; what is wrong, said so a customer can fix it) and the domain verdict: verified when
every required record (DKIM, SPF) is. DKIM: exactly one TXT record at the selector name whose
``p=`` is our key. SPF: exactly one SPF record at the return-path name that gives ``pass``
for each of our sending addresses. MX: the bounce host is among the MX records. DMARC: any
valid record is fine (the customer's policy wins); none is a warning. Lookups go through a
:class:`DnsLookup`; a lookup that failed is a ``dns_error``, never a verdict on the record.
It must not store anything or decide when to check again.
"""

from __future__ import annotations

import asyncio
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from postillon.dns.records import Answer, Status, TxtRecord
from postillon.domains.lookup import DnsLookup
from postillon.domains.records import DnsRecordSpec, RecordPurpose, source_networks
from postillon.domains.spf_check import SpfResult, check_host, is_spf_record
from postillon.domains.tags import TagListError, parse_tag_list, without_whitespace

# RFC 7489 §6.3: the policies a "p=" may name.
DMARC_POLICIES = frozenset({"none", "quarantine", "reject"})
# RFC 7489 §6.4: dmarc-version = "v" *WSP "=" *WSP "DMARC1", and it must come first (§6.6.3:
# other records are discarded).
_DMARC_VERSION = re.compile(r"v[ \t]*=[ \t]*DMARC1[ \t]*(;|$)")
# What the SPF check says when postillon knows none of its own public addresses.
NO_ADDRESS_PROBLEM = (
    "this postillon has no public sending address to check SPF against: its operator must set"
    " [delivery] spf_addresses, or give [delivery] helo_name an A/AAAA record"
)
# How much of a wrong key a problem quotes: enough to recognise it, not a wall of base64.
KEY_EXCERPT_CHARS = 24


class CheckStatus(enum.StrEnum):
    """How one record fared."""

    VERIFIED = "verified"
    MISSING = "missing"
    MISMATCH = "mismatch"
    DNS_ERROR = "dns_error"


@dataclass(frozen=True)
class RecordCheck:
    """One record's outcome: ``found`` holds the texts at its name (TXT records joined, MX as
    ``"<preference> <host>"``); ``problem`` says what is wrong, or warns on a verified record."""

    spec: DnsRecordSpec
    status: CheckStatus
    found: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class DomainCheck:
    """Every record's outcome for one domain, and the DMARC policy it publishes (None if
    it publishes no valid DMARC record)."""

    checks: tuple[RecordCheck, ...]
    dmarc_policy: str | None

    @property
    def is_verified(self) -> bool:
        """True when every required record (DKIM, SPF) is verified."""
        return all(c.status is CheckStatus.VERIFIED for c in self.checks if c.spec.is_required)


async def verify_domain(
    lookup: DnsLookup, specs: Sequence[DnsRecordSpec], source_addresses: Iterable[str]
) -> DomainCheck:
    """Check every record of ``specs`` (from :func:`required_records`) through ``lookup``;
    ``source_addresses`` are the addresses the SPF record must authorize.

    With no address (none configured and ``a:<helo_name>`` resolving to nothing) the SPF record
    cannot be checked and is a mismatch naming what the operator must set: an SPF record
    authorizing nothing must never look verified. Raises :class:`NoSourceAddressesError` when
    an address is not an IP.
    """
    addresses = tuple(source_addresses)
    if addresses:
        source_networks(addresses)
    results = await asyncio.gather(*(_check(lookup, spec, addresses) for spec in specs))
    policy = next((p for _, p in results if p is not None), None)
    return DomainCheck(tuple(check for check, _ in results), policy)


async def _check(
    lookup: DnsLookup, spec: DnsRecordSpec, addresses: tuple[str, ...]
) -> tuple[RecordCheck, str | None]:
    if spec.purpose is RecordPurpose.RETURN_PATH:
        return await _check_mx(lookup, spec), None
    answer = await lookup.lookup_txt(spec.name)
    found = tuple(record.text for record in answer.records)
    if answer.status is Status.FAILED:
        problem = f"the TXT lookup of {spec.name} failed ({answer.reason}); try again later"
        return RecordCheck(spec, CheckStatus.DNS_ERROR, found, problem), None
    if spec.purpose is RecordPurpose.DKIM:
        return _check_dkim(spec, answer), None
    if spec.purpose is RecordPurpose.SPF:
        return await _check_spf(lookup, spec, found, addresses), None
    return _check_dmarc(spec, found)


def _check_dkim(spec: DnsRecordSpec, answer: Answer[TxtRecord]) -> RecordCheck:
    found = tuple(record.text for record in answer.records)
    if not found:
        return RecordCheck(spec, CheckStatus.MISSING, found, f"no TXT record at {spec.name}")
    if len(found) > 1:
        # RFC 6376 §3.6.2.2: with several records, which one a verifier uses is undefined.
        problem = f"{len(found)} TXT records at {spec.name}; publish exactly one"
        return RecordCheck(spec, CheckStatus.MISMATCH, found, problem)
    key_problem = dkim_key_problem(spec.value, found[0])
    status = CheckStatus.MISMATCH if key_problem else CheckStatus.VERIFIED
    return RecordCheck(spec, status, found, key_problem)


def dkim_key_problem(expected: str, published: str) -> str | None:
    """What makes the key record ``published`` unable to verify signatures made with the key
    of ``expected`` (our record text), or None when it will. Strings joined, whitespace in
    ``p=`` ignored (RFC 6376 §3.6.1)."""
    ours = parse_tag_list(expected)
    try:
        tags = parse_tag_list(published)
    except TagListError as exc:
        return f"not a DKIM key record: {exc}"
    if "v" in tags and (tags["v"] != "DKIM1" or next(iter(tags)) != "v"):
        return "v= must be DKIM1 and come first (RFC 6376 §3.6.1)"
    if tags.get("k", "rsa") != ours.get("k", "rsa"):
        return f"k={tags.get('k', 'rsa')} but the key is {ours.get('k', 'rsa')}"
    hashes = [h.strip() for h in tags.get("h", "sha256").split(":")]
    if "sha256" not in hashes:
        return "h= does not allow sha256, which every signature uses"
    services = [s.strip() for s in tags.get("s", "*").split(":")]
    if "email" not in services and "*" not in services:
        return "s= does not allow email"
    key = without_whitespace(tags.get("p", ""))
    if not key:
        return "p= is empty: the key is revoked (RFC 6376 §3.6.1)"
    if key != without_whitespace(ours["p"]):
        return f"p={key[:KEY_EXCERPT_CHARS]}... is not this domain's key; publish the value shown"
    return None


async def _check_spf(
    lookup: DnsLookup, spec: DnsRecordSpec, found: tuple[str, ...], addresses: tuple[str, ...]
) -> RecordCheck:
    if not addresses:
        return RecordCheck(spec, CheckStatus.MISMATCH, found, NO_ADDRESS_PROBLEM)
    records = [text for text in found if is_spf_record(text)]
    if not records:
        return RecordCheck(spec, CheckStatus.MISSING, found, f"no SPF record at {spec.name}")
    if len(records) > 1:
        problem = f"{len(records)} SPF records at {spec.name}; RFC 7208 §4.5 allows one"
        return RecordCheck(spec, CheckStatus.MISMATCH, found, problem)
    verdicts = await asyncio.gather(*(check_host(lookup, a, spec.name) for a in addresses))
    wrong = [
        (a, v) for a, v in zip(addresses, verdicts, strict=True) if v.result is not SpfResult.PASS
    ]
    if not wrong:
        return RecordCheck(spec, CheckStatus.VERIFIED, found)
    problem = "; ".join(f"{a} gets {v.result.value} ({v.reason})" for a, v in wrong)
    is_dns = any(v.result is SpfResult.TEMPERROR for _, v in wrong)
    status = CheckStatus.DNS_ERROR if is_dns else CheckStatus.MISMATCH
    return RecordCheck(spec, status, found, f"SPF must pass for every sending address: {problem}")


def _check_dmarc(spec: DnsRecordSpec, found: tuple[str, ...]) -> tuple[RecordCheck, str | None]:
    # RFC 7489 §6.6.3: records not starting with "v=DMARC1" are discarded.
    records = [text for text in found if _DMARC_VERSION.match(text)]
    if not records:
        problem = (
            f"no DMARC record at {spec.name} (one at the organizational domain, if any, "
            f"applies instead); suggested: {spec.value}"
        )
        return RecordCheck(spec, CheckStatus.MISSING, found, problem), None
    if len(records) > 1:
        problem = f"{len(records)} DMARC records; receivers then apply none (RFC 7489 §6.6.3)"
        return RecordCheck(spec, CheckStatus.MISMATCH, found, problem), None
    try:
        tags = parse_tag_list(records[0])
    except TagListError as exc:
        return RecordCheck(spec, CheckStatus.MISMATCH, found, f"not a DMARC record: {exc}"), None
    policy = tags.get("p", "").lower()
    if policy not in DMARC_POLICIES:
        problem = f"p={tags.get('p', '')!r} is not none, quarantine or reject (RFC 7489 §6.3)"
        return RecordCheck(spec, CheckStatus.MISMATCH, found, problem), None
    warning = None
    if tags.get("aspf", "r").lower() == "s":
        warning = "aspf=s: SPF cannot align through the return-path subdomain; DKIM still aligns"
    return RecordCheck(spec, CheckStatus.VERIFIED, found, warning), policy


async def _check_mx(lookup: DnsLookup, spec: DnsRecordSpec) -> RecordCheck:
    answer = await lookup.lookup_mx(spec.name)
    found = tuple(f"{mx.preference} {mx.exchange}" for mx in answer.records)
    if answer.status is Status.FAILED:
        problem = f"the MX lookup of {spec.name} failed ({answer.reason}); try again later"
        return RecordCheck(spec, CheckStatus.DNS_ERROR, found, problem)
    host = spec.value.split()[-1]
    if not found:
        problem = (
            f"no MX record at {spec.name}: bounces will not reach postillon, and receivers "
            "that check the sender's domain may refuse the mail"
        )
        return RecordCheck(spec, CheckStatus.MISSING, found, problem)
    if all(mx.exchange != host for mx in answer.records):
        problem = f"the MX records at {spec.name} do not name {host}: bounces go elsewhere"
        return RecordCheck(spec, CheckStatus.MISMATCH, found, problem)
    return RecordCheck(spec, CheckStatus.VERIFIED, found)
