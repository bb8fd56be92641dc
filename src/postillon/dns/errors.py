"""Why a destination cannot be routed: DNS errors under :mod:`postillon.errors`.

Each class carries the SMTP reply code and enhanced status code (RFC 3463) it implies, so the
delivery engine can record and report the outcome without knowing DNS.

    DnsTemporaryError (TemporaryError)          defer and retry
    ├── DnsLookupError          451 4.4.3       SERVFAIL, REFUSED, timeout (RFC 3463 X.4.3)
    └── NoMxAddressError        451 4.4.4       no MX host has an address (X.4.4 unable to route)
    DnsPermanentError (PermanentError)          bounce
    ├── NoSuchDomainError       550 5.1.2       NXDOMAIN (X.1.2 bad destination system)
    ├── NoMailHostError         550 5.4.4       no MX and no A/AAAA (RFC 5321 §5.1)
    ├── NullMxError             556 5.1.10      null MX (RFC 7505 §4, RFC 7504)
    ├── MailLoopError           554 5.4.6       the MX is us (X.4.6 routing loop)
    └── PrivateDestinationError 550 5.4.4       every MX address is internal (not allowlisted)

It must not import dnspython: the pure MX walk raises these.
"""

from __future__ import annotations

from postillon.errors import PermanentError, TemporaryError


class DnsTemporaryError(TemporaryError):
    """The route is unknown for now; the recipient is deferred."""

    reply_code: int = 451
    enhanced_status: str = "4.4.3"

    def __init__(self, domain: str, detail: str) -> None:
        super().__init__(f"{self.enhanced_status} {domain}: {detail}")
        self.domain = domain
        self.detail = detail


class DnsLookupError(DnsTemporaryError):
    """A lookup failed without an answer: SERVFAIL, REFUSED, timeout, broken CNAME chain."""

    enhanced_status = "4.4.3"


class NoMxAddressError(DnsTemporaryError):
    """MX records exist but none of their hosts has an address (yet)."""

    enhanced_status = "4.4.4"


class DnsPermanentError(PermanentError):
    """The destination cannot receive mail; the recipient is bounced."""

    reply_code: int = 550
    enhanced_status: str = "5.4.4"

    def __init__(self, domain: str, detail: str) -> None:
        super().__init__(f"{self.enhanced_status} {domain}: {detail}")
        self.domain = domain
        self.detail = detail


class NoSuchDomainError(DnsPermanentError):
    """The domain does not exist (NXDOMAIN)."""

    enhanced_status = "5.1.2"


class NoMailHostError(DnsPermanentError):
    """The domain exists but has neither MX records nor addresses for an implicit MX."""

    enhanced_status = "5.4.4"


class NullMxError(DnsPermanentError):
    """The domain publishes a null MX: it accepts no mail (RFC 7505 §4.1)."""

    reply_code = 556
    enhanced_status = "5.1.10"


class MailLoopError(DnsPermanentError):
    """The best MX host is this server: delivering would loop (RFC 5321 §5.1)."""

    reply_code = 554
    enhanced_status = "5.4.6"


class PrivateDestinationError(DnsPermanentError):
    """Every address of every MX host is private, loopback, link-local, CGNAT, reserved ...
    and not in ``[delivery] allow_private_destinations``: we do not deliver into internal
    networks (X.4.4 unable to route)."""

    enhanced_status = "5.4.4"
