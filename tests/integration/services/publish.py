"""Publishing what the domain service asks for, the way a customer would: in the test zone."""

from __future__ import annotations

from collections.abc import Iterable

from postillon.services.domain_views import RecordView
from tests.support.dns_server import TestDns


def zone_lines(records: Iterable[RecordView]) -> list[str]:
    """Master-file lines (RFC 1035 §5) for ``records``: TXT as their 255-octet strings."""
    lines = []
    for record in records:
        if record.type == "TXT":
            strings = " ".join(f'"{s}"' for s in record.value_strings)
            lines.append(f"{record.name}. TXT {strings}")
        else:
            preference, host = record.value.split()
            lines.append(f"{record.name}. MX {preference} {host}.")
    return lines


def publish(test_dns: TestDns, domain: str, records: Iterable[RecordView], *extra: str) -> None:
    """Serve ``domain``'s zone with ``records`` and ``extra`` lines (replacing what it had)."""
    test_dns.add_zone(domain, "\n".join([*zone_lines(records), *extra]))
