"""Presentation helpers for the templates: the TLS badge of an attempt, times, statuses.

Pure functions (no I/O); :func:`install_filters` registers them with the Jinja environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment

from postillon.storage.records import AttemptRecord


@dataclass(frozen=True)
class TlsBadge:
    """What the TLS badge of one attempt says: ``kind`` is verified, unverified or none."""

    kind: str
    label: str
    detail: str


def tls_badge(attempt: AttemptRecord) -> TlsBadge:
    """The badge for ``attempt``: version and cipher, and whether the certificate verified."""
    if not attempt.tls_used:
        return TlsBadge("none", "no TLS", "no TLS session")
    detail = " · ".join(part for part in (attempt.tls_version, attempt.tls_cipher) if part)
    if attempt.dane_tlsa:
        label = f"DANE TLSA {attempt.dane_tlsa}"
        return TlsBadge("verified", label, f"{detail} · authenticated by DNSSEC" if detail else "")
    if attempt.tls_verified:
        return TlsBadge("verified", "TLS verified", detail)
    reason = attempt.tls_reason or "certificate not checked"
    return TlsBadge("unverified", "TLS not verified", f"{detail} · {reason}" if detail else reason)


def when(moment: datetime | None) -> str:
    """A UTC time to the second, or an em dash."""
    if moment is None:
        return "—"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(milliseconds: int) -> str:
    """Milliseconds as ``850 ms`` or ``2.4 s``."""
    return f"{milliseconds} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"


def install_filters(env: Environment) -> None:
    """Register the helpers as Jinja filters."""
    env.filters["when"] = when
    env.filters["duration"] = duration
    env.filters["tls_badge"] = tls_badge
