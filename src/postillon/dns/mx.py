"""The MX walk: from a recipient domain to the ordered list of hosts to try (RFC 5321 §5.1).

Owns: the routing rules (preference order, random order among equal preferences, implicit MX,
null MX, loop detection, refusing internal addresses, which failures are permanent) as a pure
state machine. Like
dnspython's ``_Resolution``, :class:`MxWalk` only says which lookups it needs next and decides
on the answers it is given; ``postillon.dns.router`` runs the lookups. It must not do I/O, read
the clock or use global randomness (a ``random.Random`` is injected).

Use::

    walk = MxWalk("example.com", identity, rng)
    while queries := walk.next_queries():
        # first one MX query, then the A and AAAA queries (answer them concurrently)
        walk.receive_mx(mx_answer)          # raises for NXDOMAIN, SERVFAIL, null MX
        walk.receive_addresses(answer)      # for each A / AAAA answer
    route = walk.route()                    # raises for loops and hosts without addresses
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from postillon.config.settings import DeliverySettings
from postillon.dns.destinations import DestinationFilter
from postillon.dns.errors import (
    DnsLookupError,
    MailLoopError,
    NoMailHostError,
    NoMxAddressError,
    NoSuchDomainError,
    NullMxError,
    PrivateDestinationError,
)
from postillon.dns.records import Answer, MxRecord, RecordType, Status, normalize_name

# At most this many MX hosts are resolved and tried. Postfix tries at most 5 addresses
# (smtp_mx_address_limit); more hosts than 10 cost lookups per delivery and never help.
MAX_MX_HOSTS = 10
# RFC 5321 §5.1: an implicit MX has preference 0.
IMPLICIT_MX_PREFERENCE = 0
ADDRESS_TYPES = (RecordType.A, RecordType.AAAA)
# A refusal names this many refused addresses at most (the reply text stays short).
MAX_REFUSALS_SHOWN = 3


@dataclass(frozen=True)
class Query:
    """One lookup the walk needs."""

    name: str
    rdtype: RecordType


@dataclass(frozen=True)
class MxHost:
    """An MX host to try: its name, preference and addresses (IPv4 first, then IPv6).

    ``is_secure`` is True when DNSSEC validated both the MX RRset (or, for an implicit MX, the
    domain's denial of MX) and every address answer of the host: only then may DANE apply to it
    (RFC 7672 §2.2.1, §2.2.2). ``canonical_name`` is where the address lookups' CNAME chain
    ended (the host name itself without one).
    """

    name: str
    preference: int
    addresses: tuple[str, ...]
    is_secure: bool = False
    canonical_name: str = field(default="", compare=False)


@dataclass(frozen=True)
class Route:
    """Where mail for ``domain`` goes: ``hosts`` in the order the engine must try them.

    ``is_implicit`` is True when the domain had no MX records and its own address is used
    (RFC 5321 §5.1).
    """

    domain: str
    hosts: tuple[MxHost, ...]
    is_implicit: bool = False


@dataclass(frozen=True)
class LocalIdentity:
    """What "ourselves" means for loop detection: our EHLO name and our addresses."""

    helo_name: str
    addresses: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, delivery: DeliverySettings) -> LocalIdentity:
        """Our EHLO name, ``own_addresses``, ``bind_addresses`` and ``spf_addresses``."""
        ours = (*delivery.own_addresses, *delivery.bind_addresses, *delivery.spf_addresses)
        return cls.of(delivery.helo_name, ours)

    @classmethod
    def of(cls, helo_name: str, addresses: Iterable[str]) -> LocalIdentity:
        """Build one with names and addresses normalised for comparison."""
        return cls(normalize_name(helo_name), frozenset(_normalize_address(a) for a in addresses))

    def is_self(self, host: str, addresses: Iterable[str]) -> bool:
        """True if ``host`` is our EHLO name or any of ``addresses`` is one of ours."""
        if normalize_name(host) == self.helo_name:
            return True
        return any(_normalize_address(a) in self.addresses for a in addresses)


def _normalize_address(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return address.strip().lower()


@dataclass
class _Candidate:
    name: str
    preference: int
    answers: dict[RecordType, Answer[str]] = field(default_factory=dict)

    def addresses(self) -> tuple[str, ...]:
        return tuple(
            address
            for rdtype in ADDRESS_TYPES
            if (answer := self.answers.get(rdtype)) is not None
            for address in answer.records
        )

    def is_secure(self) -> bool:
        answers = [a for a in self.answers.values() if a.status is not Status.FAILED]
        return bool(answers) and all(answer.is_secure for answer in answers)

    def canonical_name(self) -> str:
        for answer in self.answers.values():
            if answer.records:
                return normalize_name(answer.canonical_name)
        return self.name

    def failure(self) -> str | None:
        for answer in self.answers.values():
            if answer.status is Status.FAILED:
                return f"{answer.rdtype} {answer.name}: {answer.reason}"
        return None


class MxWalk:
    """The routing decision for one domain, fed answers by whoever does the lookups."""

    def __init__(
        self,
        domain: str,
        identity: LocalIdentity,
        rng: random.Random,
        destinations: DestinationFilter | None = None,
    ) -> None:
        self.domain = normalize_name(domain)
        self._identity = identity
        self._destinations = destinations or DestinationFilter()
        self._rng = rng
        self._mx_asked = False
        self._candidates: list[_Candidate] | None = None
        self._is_implicit = False
        self._is_mx_secure = False

    def next_queries(self) -> tuple[Query, ...]:
        """The lookups still needed (they may run concurrently); () when :meth:`route` is
        ready."""
        if not self._mx_asked:
            self._mx_asked = True
            return (Query(self.domain, RecordType.MX),)
        if self._candidates is None:
            return ()
        return tuple(
            Query(candidate.name, rdtype)
            for candidate in self._candidates
            for rdtype in ADDRESS_TYPES
            if rdtype not in candidate.answers
        )

    def receive_mx(self, answer: Answer[MxRecord]) -> None:
        """Take the answer to the MX query.

        Raises at once when it settles the matter: NoSuchDomainError (NXDOMAIN),
        DnsLookupError (SERVFAIL, timeout), NullMxError (RFC 7505).
        """
        if answer.status is Status.NXDOMAIN:
            raise NoSuchDomainError(self.domain, "no such domain (NXDOMAIN)")
        if answer.status is Status.FAILED:
            raise DnsLookupError(self.domain, f"MX lookup failed: {answer.reason}")
        self._is_mx_secure = answer.is_secure
        if answer.status is Status.NODATA or not answer.records:
            # RFC 5321 §5.1: no MX records, so the domain itself is the one host, preference
            # 0. A CNAME is followed: the name processed is where the chain ended.
            self._is_implicit = True
            target = normalize_name(answer.canonical_name)
            self._candidates = [_Candidate(target, IMPLICIT_MX_PREFERENCE)]
            return
        self._candidates = self._order(answer.records)

    def receive_addresses(self, answer: Answer[str]) -> None:
        """Take the answer to an A or AAAA query; failures are weighed in :meth:`route`."""
        name = normalize_name(answer.name)
        for candidate in self._candidates or ():
            if candidate.name == name:
                candidate.answers[answer.rdtype] = answer

    def _order(self, records: tuple[MxRecord, ...]) -> list[_Candidate]:
        # RFC 7505 §3: a null MX is the domain's only MX record. Published next to other
        # records it is a misconfiguration; "." can never be connected to, so it is dropped
        # and the real hosts are used.
        real = [record for record in records if not record.is_null]
        if not real:
            raise NullMxError(self.domain, "the domain accepts no mail (null MX)")
        # RFC 5321 §5.1: lowest preference first; equal preferences in random order to
        # spread the load. The same host listed twice keeps its best preference.
        self._rng.shuffle(real)
        real.sort(key=lambda record: record.preference)
        ordered: dict[str, int] = {}
        for record in real:
            ordered.setdefault(normalize_name(record.exchange), record.preference)
        return [
            _Candidate(name, preference)
            for name, preference in list(ordered.items())[:MAX_MX_HOSTS]
        ]

    def route(self) -> Route:
        """The hosts to try, best first.

        Addresses the destination filter refuses (internal networks) are dropped; a host left
        without addresses is not tried.

        Raises MailLoopError when we are the best MX (RFC 5321 §5.1: only hosts preferred over
        ourselves may be tried), NoMailHostError when an implicit MX has no address,
        NoMxAddressError or DnsLookupError when no MX host has an address,
        PrivateDestinationError when every address found is refused.
        """
        if self._candidates is None or self.next_queries():
            raise RuntimeError("route() before all queries were answered")
        candidates = self._without_self(self._candidates)
        hosts: list[MxHost] = []
        failures: list[str] = []
        refused: list[str] = []
        for candidate in candidates:
            addresses = []
            for address in candidate.addresses():
                reason = self._destinations.refusal(address)
                if reason is None:
                    addresses.append(address)
                else:
                    refused.append(f"{candidate.name} {address}: {reason}")
            if addresses:
                is_secure = self._is_mx_secure and candidate.is_secure()
                hosts.append(
                    MxHost(
                        candidate.name,
                        candidate.preference,
                        tuple(addresses),
                        is_secure,
                        candidate.canonical_name(),
                    )
                )
            elif (failure := candidate.failure()) is not None:
                failures.append(failure)
        if hosts:
            return Route(self.domain, tuple(hosts), self._is_implicit)
        if failures:
            raise DnsLookupError(self.domain, "address lookup failed: " + "; ".join(failures))
        if refused:
            raise PrivateDestinationError(
                self.domain,
                "refusing to deliver into an internal network ("
                + "; ".join(refused[:MAX_REFUSALS_SHOWN])
                + "); an operator may allow it with [delivery] allow_private_destinations",
            )
        if self._is_implicit:
            raise NoMailHostError(self.domain, "no MX records and no address records")
        names = ", ".join(candidate.name for candidate in candidates)
        raise NoMxAddressError(self.domain, f"no MX host has an address ({names})")

    def _without_self(self, candidates: list[_Candidate]) -> list[_Candidate]:
        own = [c.preference for c in candidates if self._identity.is_self(c.name, c.addresses())]
        if not own:
            return candidates
        # RFC 5321 §5.1: if we are one of the MX hosts, only hosts with a lower preference
        # value than ours may be tried; if there are none, the mail would loop.
        best_own = min(own)
        kept = [c for c in candidates if c.preference < best_own]
        if not kept:
            raise MailLoopError(self.domain, "the best MX host is this server (mail loop)")
        return kept
