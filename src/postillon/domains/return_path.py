"""The keyed return-path tag: ``bounces+<message id>-<tag>@pstbounces.<domain>``.

Owns making and checking the short tag (BATV-style, an HMAC-SHA256 under a key derived from
the master key) that lets the inbound listener refuse, at RCPT, a report sent to an address we
never used: a made-up id, an altered one, or one moved to another domain. Addresses made before
tags existed (``bounces+<id>@...``, no tag) read back as untagged; the caller accepts those
only for a message stored with exactly that envelope sender.
SECURITY: the key never appears in an error or a repr; tags are compared in constant time.
Pure; no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from postillon.domains.errors import InvalidDomainError
from postillon.domains.names import (
    MAX_LOCAL_PART_OCTETS,
    RETURN_PATH_LABEL,
    bounce_address,
    normalize_domain,
    parse_bounce_address,
    return_path_domain,
)

# 8 base32 characters = 40 bits: a forger needs ~10^12 tries per message id, far beyond what
# a rate-limited port 25 allows, and the local part stays short (8 + 26 + 1 + 8 = 43 ≤ 64).
TAG_CHARS = 8
TAG_SEPARATOR = "-"
# The mailto: of one-click unsubscribe (RFC 8058 §3.1 keeps a mailto beside the https URI for
# clients without HTTP): unsubscribe@pstbounces.<domain>, the token in the Subject.
UNSUBSCRIBE_LOCAL_PART = "unsubscribe"
# Domain separation: the DKIM sealing key is never used as the tag key itself.
_KEY_LABEL = b"postillon return-path tag v1"


@dataclass(frozen=True)
class TagKey:
    """The HMAC key for return-path tags (derived from the master key)."""

    material: bytes = field(repr=False)

    @classmethod
    def derive(cls, master_key: bytes) -> TagKey:
        """The tag key for ``master_key`` (HMAC-SHA256 of a fixed label under it)."""
        return cls(hmac.new(master_key, _KEY_LABEL, hashlib.sha256).digest())


@dataclass(frozen=True)
class ReturnPath:
    """A return-path address read back: its sender domain, the message id it names, and
    whether it carried a (valid) tag; ``address`` is the address as written."""

    domain: str
    message_id: str
    is_tagged: bool
    address: str


def _tag(key: TagKey, domain: str, message_id: str) -> str:
    # NUL cannot occur in a domain or an id: no two pairs give the same input.
    data = f"{domain}\x00{message_id}".encode()
    digest = hmac.new(key.material, data, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TAG_CHARS].lower()


def tagged_bounce_address(domain: str, message_id: str, key: TagKey) -> str:
    """``bounces+<id>-<tag>@pstbounces.<domain>``. Raises InvalidDomainError as
    :func:`~postillon.domains.names.bounce_address` does, or when the id leaves no room for
    the tag in a 64-octet local part."""
    plain = bounce_address(domain, message_id)
    local, _, host = plain.rpartition("@")
    tagged_local = f"{local}{TAG_SEPARATOR}{_tag(key, host.split('.', 1)[1], message_id)}"
    if len(tagged_local) > MAX_LOCAL_PART_OCTETS:
        raise InvalidDomainError(f"message id {message_id!r} is too long for a tagged address")
    return f"{tagged_local}@{host}"


def unsubscribe_address(domain: str) -> str:
    """``unsubscribe@pstbounces.<domain>``: where a mailto unsubscribe is sent."""
    return f"{UNSUBSCRIBE_LOCAL_PART}@{return_path_domain(domain)}"


def read_unsubscribe_address(address: str) -> str | None:
    """The sender domain of an :func:`unsubscribe_address`, or None for any other address."""
    local, at, host = address.strip().strip("<>").rpartition("@")
    prefix = RETURN_PATH_LABEL + "."
    host = host.rstrip(".").lower()
    if not at or local.lower() != UNSUBSCRIBE_LOCAL_PART or not host.startswith(prefix):
        return None
    try:
        return normalize_domain(host[len(prefix) :])
    except InvalidDomainError:
        return None


def read_return_path(address: str, key: TagKey) -> ReturnPath | None:
    """The return path ``address`` names, or None when it is not one of ours or carries a
    tag that does not verify (made up, altered, or moved to another domain).

    An id ending in ``-<8 characters>`` whose tag verifies is tagged; any other id is read as
    untagged (the form used before tags), which the caller must check against the message's
    stored envelope sender. Tags compare in any case (some relays change case).
    """
    parsed = parse_bounce_address(address)
    if parsed is None:
        return None
    domain, text = parsed
    written = address.strip().strip("<>")
    head, separator, tag = text.rpartition(TAG_SEPARATOR)
    if separator and len(tag) == TAG_CHARS and head:
        if hmac.compare_digest(_tag(key, domain, head), tag.lower()):
            return ReturnPath(domain, head, is_tagged=True, address=written)
        # Our ids carry no "-": a tag-shaped suffix that fails is an altered address.
        return None
    return ReturnPath(domain, text, is_tagged=False, address=written)
