"""The outcome of one webhook HTTP attempt, as the delivery log records it.

Owns :class:`DeliveryResult` (status, latency, response snippet, error, Retry-After) and the
:class:`FailureKind` enum. Made by ``sender.py``, judged by ``retry.py``; it must not do either.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class FailureKind(enum.StrEnum):
    """Why an attempt did not succeed."""

    HTTP_STATUS = "http_status"  # the receiver answered, but not 2xx (3xx is a redirect below)
    REDIRECT = "redirect"  # 3xx: never followed (Standard Webhooks: update the URL instead)
    TIMEOUT = "timeout"  # connect or the whole request ran past its timeout
    CONNECT = "connect"  # refused, reset, unreachable
    TLS = "tls"  # handshake or certificate verification failed
    DNS = "dns"  # the host name did not resolve
    UNSAFE_TARGET = "unsafe_target"  # the SSRF guard refused the URL or an address at send time
    PROTOCOL = "protocol"  # the receiver broke HTTP


@dataclass(frozen=True)
class DeliveryResult:
    """One attempt: what came back, how long it took, and why it failed if it did.

    ``status`` is None when no response arrived. ``snippet`` is the start of the response body
    (bounded, decoded leniently) for the delivery log. ``retry_after_s`` is the receiver's
    Retry-After in seconds from the attempt, if it sent a valid one.
    """

    attempted_at: datetime
    status: int | None
    latency_ms: int
    snippet: str = ""
    error: str | None = None
    failure: FailureKind | None = None
    retry_after_s: float | None = None

    @property
    def is_success(self) -> bool:
        """True for a 2xx answer (Standard Webhooks: "Delivery success and failure")."""
        return self.failure is None and self.status is not None and 200 <= self.status < 300

    def summary(self) -> str:
        """A short human-readable line: ``HTTP 503`` or ``timeout: ...``."""
        if self.failure is None or self.failure in (FailureKind.HTTP_STATUS, FailureKind.REDIRECT):
            return f"HTTP {self.status}"
        return f"{self.failure.value}: {self.error or '?'}"
