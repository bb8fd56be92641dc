"""What DNS answers look like to the rest of postillon: record types, outcomes, answers.

Owns: the frozen values a lookup returns (:class:`Answer` of :class:`MxRecord`, address text or
:class:`TxtRecord`) and name normalisation. Pure: it must not import dnspython or do any I/O, so
the MX walk and its tests can build answers by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")

ROOT = "."


class RecordType(enum.StrEnum):
    """The record types postillon asks for."""

    A = "A"
    AAAA = "AAAA"
    MX = "MX"
    TXT = "TXT"
    TLSA = "TLSA"


class Status(enum.Enum):
    """How a lookup ended (RFC 1035 §4.1.1 rcodes, with NODATA split out per RFC 2308 §2.2)."""

    FOUND = "found"  # NOERROR with records of the asked type
    NODATA = "nodata"  # the name exists, but has no records of that type
    NXDOMAIN = "nxdomain"  # the name does not exist (or cannot: not a valid domain name)
    FAILED = "failed"  # unknown: SERVFAIL, REFUSED, timeout, broken CNAME chain

    @property
    def is_negative(self) -> bool:
        """True for the answers that say "there is nothing" (cacheable per RFC 2308)."""
        return self in (Status.NODATA, Status.NXDOMAIN)


class Security(enum.Enum):
    """What DNSSEC says about an answer (RFC 4033 §5), as the validating resolver reported it.

    A bogus answer never reaches us as data: a validating resolver answers SERVFAIL, so it is a
    FAILED lookup. Without ``[dns] dnssec`` every answer is INSECURE.
    """

    SECURE = "secure"  # the resolver validated it (AD bit, RFC 4035 §3.2.3)
    INSECURE = "insecure"  # unsigned zone, or no validating resolver configured


@dataclass(frozen=True)
class TlsaRecord:
    """One TLSA record (RFC 6698 §2.1): certificate usage, selector, matching type, data."""

    usage: int
    selector: int
    matching_type: int
    data: bytes

    def __str__(self) -> str:
        return f"{self.usage} {self.selector} {self.matching_type} {self.data.hex()}"


@dataclass(frozen=True)
class MxRecord:
    """One MX record (RFC 1035 §3.3.9); ``exchange`` is a normalised name, "." for null MX."""

    preference: int
    exchange: str

    @property
    def is_null(self) -> bool:
        """True for the RFC 7505 §3 target "." (the domain accepts no mail)."""
        return self.exchange == ROOT


@dataclass(frozen=True)
class TxtRecord:
    """One TXT record: its character-strings (RFC 1035 §3.3.14), each up to 255 octets."""

    strings: tuple[bytes, ...]

    @property
    def text(self) -> str:
        """The strings concatenated without separators, as MTA-STS, DKIM and SPF read them
        (RFC 7208 §3.3); octets that are not UTF-8 become U+FFFD."""
        return b"".join(self.strings).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Answer(Generic[R]):
    """The result of one lookup: a value even when it failed, so pure code can decide on it.

    ``canonical_name`` is where the CNAME chain from ``name`` ended (``name`` itself if there
    was none). ``ttl_s`` is how long the answer may be cached: the smallest TTL on the chain,
    or for a negative answer min(SOA TTL, SOA MINIMUM) (RFC 2308 §5); 0 means "do not cache".
    ``reason`` says why a FAILED lookup failed. ``security`` is SECURE only when every answer
    on the chain was validated.
    """

    name: str
    rdtype: RecordType
    status: Status
    canonical_name: str
    records: tuple[R, ...] = ()
    ttl_s: int = 0
    reason: str = ""
    security: Security = Security.INSECURE

    @property
    def is_secure(self) -> bool:
        """True when DNSSEC validated this answer (data or denial)."""
        return self.security is Security.SECURE


def normalize_name(name: str) -> str:
    """A domain name in the one form postillon compares: lower case, no trailing dot.

    The root stays ".". Comparison is ASCII case-insensitive (RFC 4343 §2); names reach here
    as A-labels, so lower-casing is exact.
    """
    stripped = name.strip()
    if stripped in ("", ROOT):
        return ROOT
    return stripped.rstrip(".").lower()
