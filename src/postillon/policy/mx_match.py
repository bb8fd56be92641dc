"""MX host names and the ``mx`` patterns of a policy (RFC 8461 §3.2 syntax, §4.1 matching).

Owns: validating and normalising host names and patterns, and deciding whether an MX host
matches a pattern. Pure: it must not look at certificates (the transport checks the certificate
against the MX host name) or resolve anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# RFC 1035 §2.3.4: a label is at most 63 octets, a name at most 255 octets on the wire, which is
# 253 characters in text form without the trailing dot.
MAX_LABEL_CHARS = 63
MAX_NAME_CHARS = 253
# RFC 5321 §4.1.2 (Domain): sub-domain = Let-dig [Ldh-str], so no leading or trailing hyphen.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
# RFC 8461 §3.2: sts-policy-mx-value = ["*."] Domain.
WILDCARD_PREFIX = "*."


def normalize_host(name: str) -> str:
    """``name`` lower-cased without its trailing dot: ``MX.Example.COM.`` → ``mx.example.com``."""
    lowered = name.lower()
    return lowered[:-1] if lowered.endswith(".") else lowered


def is_valid_host(name: str) -> bool:
    """True if ``name`` (already normalised) is an ASCII LDH domain name (RFC 5321 §4.1.2)."""
    if not name or len(name) > MAX_NAME_CHARS or not name.isascii():
        return False
    return all(
        len(label) <= MAX_LABEL_CHARS and _LABEL.fullmatch(label) for label in name.split(".")
    )


def parse_mx_pattern(value: str) -> str | None:
    """The normalised pattern for an ``mx`` value (``mx.example.com`` or ``*.example.com``), or
    None if it is not ``["*."] Domain``."""
    pattern = normalize_host(value)
    if pattern.startswith(WILDCARD_PREFIX):
        return pattern if is_valid_host(pattern[len(WILDCARD_PREFIX) :]) else None
    return pattern if is_valid_host(pattern) else None


def mx_matches(pattern: str, mx_host: str) -> bool:
    """True if ``mx_host`` matches ``pattern`` (RFC 8461 §4.1).

    An exact pattern matches the same name; ``*.example.com`` matches exactly one extra leftmost
    label (``mx.example.com``), never ``example.com`` nor ``a.mx.example.com``. Case and a
    trailing dot do not matter on either side; an invalid host name matches nothing.
    """
    host = normalize_host(mx_host)
    if not is_valid_host(host):
        return False
    wanted = normalize_host(pattern)
    if wanted.startswith(WILDCARD_PREFIX):
        _, dot, parent = host.partition(".")
        return bool(dot) and parent == wanted[len(WILDCARD_PREFIX) :]
    return host == wanted


def matches_any(patterns: Iterable[str], mx_host: str) -> bool:
    """True if ``mx_host`` matches at least one of ``patterns``."""
    return any(mx_matches(pattern, mx_host) for pattern in patterns)
