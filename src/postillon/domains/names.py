"""The names postillon uses inside a customer's domain, and the envelope sender built on them.

Owns: normalising a sender domain (A-labels, lower case, no trailing dot), the return-path
subdomain ``pstbounces.<domain>`` and the VERP-style envelope sender
``bounces+<message id>@pstbounces.<domain>`` (and reading one back). Pure; no DNS.

Why a return-path subdomain: DMARC (RFC 7489 §3.1.2) accepts SPF only when the MAIL FROM
domain aligns with the From domain; in relaxed mode a subdomain of the same organizational
domain aligns. A subdomain of its own lets the customer publish an SPF record for us without
touching the SPF record of their main domain (which other senders share), and carries an MX
so receivers that check the sender domain (Postfix ``reject_unknown_sender_domain``) accept it
and bounces come back to us.
"""

from __future__ import annotations

import ipaddress
import re

import idna

from postillon.domains.errors import InvalidDomainError

# The label in front of the customer's domain; "pst" marks it as ours in their zone. No
# hyphen on purpose: some DMARC evaluators (authheaders' get_domain_part, used by Mailman)
# cut the MAIL FROM domain at the first "-", which would break SPF alignment for everyone.
RETURN_PATH_LABEL = "pstbounces"
# VERP local part: "bounces+<id>" (the "+" detail convention most MTAs keep intact).
BOUNCE_LOCAL_PREFIX = "bounces+"
# RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
MAX_LOCAL_PART_OCTETS = 64
MAX_MESSAGE_ID_OCTETS = MAX_LOCAL_PART_OCTETS - len(BOUNCE_LOCAL_PREFIX)
# RFC 1035 §2.3.4: a name is at most 255 octets on the wire, 253 as text without the final dot;
# the longest name we derive (a 20-octet selector + "._domainkey." or "pstbounces.") must fit.
MAX_NAME_OCTETS = 253
LONGEST_PREFIX_OCTETS = len("pst20261129-k3x9qdma._domainkey.")
MAX_DOMAIN_OCTETS = MAX_NAME_OCTETS - LONGEST_PREFIX_OCTETS
# RFC 1035 §2.3.4: a label is 1 to 63 octets; LDH syntax (RFC 5890 §2.3.1).
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Message ids go into a local part verbatim: atext without "+" and "=" (which VERP schemes
# and some MTAs treat specially), starting with a letter or digit (RFC 5322 §3.2.3).
_MESSAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def normalize_domain(name: str) -> str:
    """``name`` as postillon stores and compares it: A-labels (IDNA 2008), lower case, no
    trailing dot. Raises :class:`InvalidDomainError` for an IP address, a single label, a
    name whose derived record names would pass 253 octets, or anything not a host name."""
    text = name.strip().rstrip(".")
    if not text:
        raise InvalidDomainError("a domain name is required")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise InvalidDomainError(f"{name!r} is an IP address, not a domain")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise InvalidDomainError(f"{name!r} is not a valid domain name: {exc}") from None
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise InvalidDomainError(f"{name!r} has a single label; a sender domain has at least two")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise InvalidDomainError(f"{name!r} has an invalid label {label!r}")
    if len(ascii_name) > MAX_DOMAIN_OCTETS:
        raise InvalidDomainError(f"{name!r} is longer than {MAX_DOMAIN_OCTETS} octets")
    return ascii_name


def return_path_domain(domain: str) -> str:
    """``pstbounces.<domain>``: where the envelope sender of every message from ``domain``
    lives, and where its SPF record and bounce MX are published."""
    return f"{RETURN_PATH_LABEL}.{normalize_domain(domain)}"


def bounce_address(domain: str, message_id: str) -> str:
    """The envelope sender (MAIL FROM) for message ``message_id`` sent from ``domain``:
    ``bounces+<id>@pstbounces.<domain>``, so a bounce names the message it is about.

    Raises :class:`InvalidDomainError` for an id that is not letters, digits, ``.``, ``_``,
    ``-`` (starting with a letter or digit) or longer than 56 octets.
    """
    if not _MESSAGE_ID.fullmatch(message_id) or len(message_id) > MAX_MESSAGE_ID_OCTETS:
        raise InvalidDomainError(f"message id {message_id!r} cannot go into a bounce address")
    if ".." in message_id or message_id.endswith("."):
        raise InvalidDomainError(f"message id {message_id!r} is not a dot-atom")
    return f"{BOUNCE_LOCAL_PREFIX}{message_id}@{return_path_domain(domain)}"


def parse_bounce_address(address: str) -> tuple[str, str] | None:
    """``(domain, message_id)`` from an address :func:`bounce_address` made, or None.

    The local part is matched case-insensitively on its prefix (some relays change case);
    the id is returned as found.
    """
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or local[: len(BOUNCE_LOCAL_PREFIX)].lower() != BOUNCE_LOCAL_PREFIX:
        return None
    message_id = local[len(BOUNCE_LOCAL_PREFIX) :]
    host = host.rstrip(".").lower()
    prefix = RETURN_PATH_LABEL + "."
    if not host.startswith(prefix) or not _MESSAGE_ID.fullmatch(message_id):
        return None
    try:
        domain = normalize_domain(host[len(prefix) :])
    except InvalidDomainError:
        return None
    return domain, message_id
