"""Which webhook URLs are acceptable at all, before any address is looked at (pure).

Owns the URL half of the SSRF guard. The URL is parsed with yarl, the parser aiohttp itself uses,
so the host we check is the host aiohttp will connect to (no parser differential). Refused:
schemes other than http and https; any userinfo (``http://good.example@127.0.0.1/``); hosts that
are neither an IP literal nor a DNS name of letters, digits, ``-`` and ``_``; IPv6 zone ids; the
legacy numeric IPv4 forms that ``inet_aton`` and browsers still accept (``2130706433``,
``0x7f.1``, ``017700000001``, ``127.1``: the WHATWG URL "ends in a number" rule, under which any
host whose last label is numeric is an IPv4 address); and ``localhost`` names (RFC 6761 §6.3).
It must not resolve names or judge addresses (``dns/special_addresses.py``, ``guard.py``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

from yarl import URL

from postillon.dns.special_addresses import IPAddress
from postillon.webhooks.errors import UnsafeTargetError

ALLOWED_SCHEMES: Final = frozenset({"http", "https"})
# Browsers and servers commonly cap URLs near 2 KiB; a webhook URL is never longer.
MAX_URL_CHARS = 2048
# RFC 1035 §2.3.4: 253 characters in a name's text form, 63 per label.
MAX_HOST_CHARS = 253
_LABEL: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# WHATWG URL "ends in a number checker": a last label of digits, or 0x + hex digits.
_NUMERIC_LABEL: Final = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)")


@dataclass(frozen=True)
class WebhookUrl:
    """A URL that passed the syntactic checks; ``address`` is set when the host is an IP literal."""

    url: URL
    host: str
    port: int
    address: IPAddress | None

    @property
    def is_https(self) -> bool:
        """True for https (TLS, certificate verified for ``host``)."""
        return self.url.scheme == "https"


def _refuse(url: str, why: str) -> UnsafeTargetError:
    return UnsafeTargetError(f"webhook URL {url[:200]!r} refused: {why}")


def parse_webhook_url(text: str) -> WebhookUrl:
    """Parse and check ``text``. Raises UnsafeTargetError saying why a URL is refused."""
    if len(text) > MAX_URL_CHARS:
        raise _refuse(text, f"longer than {MAX_URL_CHARS} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise _refuse(text, "whitespace or control characters")
    try:
        url = URL(text)
    except ValueError as exc:
        raise _refuse(text, f"not a URL ({exc})") from None
    if url.scheme not in ALLOWED_SCHEMES:
        raise _refuse(text, f"scheme {url.scheme!r} (only http and https)")
    authority = url.raw_authority
    if url.raw_user is not None or url.raw_password is not None or "@" in authority:
        raise _refuse(text, "userinfo (user:password@) is not allowed")
    raw_host = url.raw_host
    if not raw_host:
        raise _refuse(text, "no host")
    port = url.port
    if port is None or not 0 < port < 65536:
        raise _refuse(text, f"port {port} is not usable")
    if ":" in raw_host:  # an IPv6 literal (yarl strips the brackets)
        if "%" in raw_host:
            raise _refuse(text, "IPv6 zone identifiers are not allowed")
        try:
            v6 = ipaddress.IPv6Address(raw_host)
        except ValueError:
            raise _refuse(text, f"{raw_host!r} is not an IPv6 address") from None
        return WebhookUrl(url=url, host=str(v6), port=port, address=v6)
    host = raw_host.lower().removesuffix(".")
    try:
        v4 = ipaddress.IPv4Address(host)
    except ValueError:
        pass
    else:
        return WebhookUrl(url=url, host=host, port=port, address=v4)
    _check_host_name(text, host)
    return WebhookUrl(url=url, host=host, port=port, address=None)


def _check_host_name(text: str, host: str) -> None:
    if len(host) > MAX_HOST_CHARS:
        raise _refuse(text, f"host name longer than {MAX_HOST_CHARS} characters")
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse(text, f"{host!r} is not a host name")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # Anything inet_aton or a browser would read as an IPv4 address in another notation.
        raise _refuse(text, f"{host!r} is a non-canonical numeric IPv4 form")
    if labels[-1] == "localhost":
        raise _refuse(text, "localhost names always resolve to loopback (RFC 6761 §6.3)")
