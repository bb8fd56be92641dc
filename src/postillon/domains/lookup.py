"""What the domain checks need from DNS: the lookups :class:`postillon.dns.Resolver` makes.

A protocol, so the checks run on the real resolver in production and in tests (pointed at the
test name server) without importing how it is built. Answers are values, failures included.
"""

from __future__ import annotations

from typing import Protocol

from postillon.dns.records import Answer, MxRecord, RecordType, TxtRecord


class DnsLookup(Protocol):
    """TXT, MX and address lookups, each answered as an :class:`Answer` (never raising)."""

    async def lookup_txt(self, name: str) -> Answer[TxtRecord]:
        """The TXT records of ``name``."""
        ...

    async def lookup_mx(self, name: str) -> Answer[MxRecord]:
        """The MX records of ``name``."""
        ...

    async def lookup_addresses(self, name: str, rdtype: RecordType) -> Answer[str]:
        """The A or AAAA records of ``name`` as address text."""
        ...
