"""MTA-STS policy values (RFC 8461 §3.2) and their lifetime rules.

Owns: the mode enum, :class:`MtaStsPolicy` (one recipient domain's fetched policy),
:class:`NoPolicy` (the "no policy, and why" outcome of every parser), and the arithmetic of
expiry and refresh.
Pure: it must not parse text (see ``record.py``, ``policy_text.py``), match MX names
(``mx_match.py``) or do any I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

# Our promise: no policy is trusted longer than one week, whatever its max_age says. A short cap
# bounds how long a stale or hijacked policy can steer delivery.
MAX_POLICY_LIFETIME_S = 7 * 24 * 3600  # 604800
# RFC 8461 §3.2: "max_age ... maximum value of 31557600" (one year); larger is invalid.
RFC_MAX_AGE_S = 31_557_600
# Refresh once this fraction of the lifetime has passed, so an unreachable policy server at
# expiry time still finds a fresh policy in the cache (RFC 8461 §10.2 suggests refreshing early).
REFRESH_AFTER_FRACTION = 0.5


class MtaStsMode(enum.Enum):
    """The ``mode`` field of a policy (RFC 8461 §5)."""

    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


@dataclass(frozen=True)
class NoPolicy:
    """No usable policy: deliver as if the domain had not published MTA-STS; ``reason`` says why."""

    reason: str


@dataclass(frozen=True)
class MtaStsPolicy:
    """One recipient domain's policy as fetched at ``fetched_at``.

    ``id`` is the policy id from the ``_mta-sts`` TXT record it was fetched under; ``mx`` holds
    the patterns, lower-case and without trailing dots; ``max_age_s`` is already capped at
    :data:`MAX_POLICY_LIFETIME_S`. The policy belongs to ``domain`` and to no other domain,
    even one sharing its MX hosts.
    """

    domain: str
    id: str
    mode: MtaStsMode
    mx: tuple[str, ...]
    max_age_s: int
    fetched_at: datetime

    @property
    def lifetime_s(self) -> int:
        """Seconds the policy stays valid from ``fetched_at`` (never more than one week)."""
        return max(0, min(self.max_age_s, MAX_POLICY_LIFETIME_S))

    @property
    def expires_at(self) -> datetime:
        """The moment the policy stops applying."""
        return self.fetched_at + timedelta(seconds=self.lifetime_s)

    @property
    def refresh_at(self) -> datetime:
        """The moment from which the cache fetches the policy again (before it expires)."""
        return self.fetched_at + timedelta(seconds=self.lifetime_s * REFRESH_AFTER_FRACTION)

    def is_expired(self, now: datetime) -> bool:
        """True once ``now`` reaches :attr:`expires_at`."""
        return now >= self.expires_at

    def is_due_refresh(self, now: datetime) -> bool:
        """True once ``now`` reaches :attr:`refresh_at`."""
        return now >= self.refresh_at
