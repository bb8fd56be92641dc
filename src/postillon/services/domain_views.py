"""What the domain use cases answer: a domain, its records to publish and how each fared.

Owns :class:`DomainView` and :class:`RecordView` (frozen, JSON-friendly strings), and turning
stored check results into them. It must not query DNS or the store.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postillon.domains import CheckStatus, DnsRecordSpec, RecordCheck


class DomainStatus(enum.StrEnum):
    """A domain's state: never checked, verified, or checked and not (yet) right."""

    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"


# A record not checked yet.
NOT_CHECKED = "pending"


@dataclass(frozen=True)
class RecordView:
    """One record to publish: ``status`` is ``pending`` before the first check, then one of
    verified, missing, mismatch, dns_error; ``found`` is what DNS held; ``problem`` what to fix
    (or a warning on a verified record). ``required``: the domain verifies only when it does."""

    purpose: str
    type: str
    name: str
    value: str
    value_strings: tuple[str, ...]
    status: str
    found: tuple[str, ...]
    problem: str | None
    required: bool = True


@dataclass(frozen=True)
class DomainView:
    """A sender domain as the API and the CLI show it. ``selector`` is the one signing now
    (or, before verification, the one that will)."""

    name: str
    status: DomainStatus
    records: tuple[RecordView, ...]
    verified_at: datetime | None
    last_checked_at: datetime | None
    selector: str
    created_at: datetime | None = None
    dmarc_policy: str | None = None
    unsubscribe_default: bool = False


def record_view(spec: DnsRecordSpec, check: RecordCheck | None) -> RecordView:
    """``spec`` with its check (None: not checked yet)."""
    return RecordView(
        purpose=spec.purpose.value,
        type=spec.type.value,
        name=spec.name,
        value=spec.value,
        value_strings=spec.value_strings,
        status=check.status.value if check else NOT_CHECKED,
        found=check.found if check else (),
        problem=check.problem if check else None,
        required=spec.is_required,
    )


def results_json(checks: Iterable[RecordCheck]) -> list[dict[str, Any]]:
    """Check results as stored: keyed by (purpose, name, value) so a result applies only to
    the record it was made for."""
    return [
        {
            "purpose": c.spec.purpose.value,
            "name": c.spec.name,
            "value": c.spec.value,
            "status": c.status.value,
            "found": list(c.found),
            "problem": c.problem,
        }
        for c in checks
    ]


def views_from_results(
    specs: Sequence[DnsRecordSpec], stored: Sequence[Mapping[str, Any]]
) -> tuple[RecordView, ...]:
    """The records of ``specs`` with the stored result of each (pending if none matches)."""
    by_key = {(r["purpose"], r["name"], r["value"]): r for r in stored}
    views = []
    for spec in specs:
        found = by_key.get((spec.purpose.value, spec.name, spec.value))
        check = (
            RecordCheck(
                spec,
                CheckStatus(found["status"]),
                tuple(found["found"]),
                found["problem"],
            )
            if found
            else None
        )
        views.append(record_view(spec, check))
    return tuple(views)
