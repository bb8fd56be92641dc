"""The DKIM signer (RFC 6376 §5, RFC 8463): message bytes in, a DKIM-Signature field out.

Signs rsa-sha256 or ed25519-sha256, relaxed/relaxed by default, never with ``l=`` (a body
length lets anyone append content), ``t=`` from the injected clock and ``x=`` optionally.
Signs the usual header fields that are present, every occurrence of each (picked bottom-up,
RFC 6376 §5.4.2), and lists From once more than present ("over-signing", §8.15) so that a
From added in transit breaks the signature.

Contract with the composer: the signer signs exactly the bytes it is given, after turning bare
LF/CR into CRLF, and never rewraps lines. A line over 998 octets raises
:class:`~postillon.dkim.errors.LineTooLongError`: the composer keeps lines within RFC 5322 §2.1.1
(and the SMTP client must not rewrap either). :func:`sign_message` returns the normalised bytes
with the fields prepended, which is what must be stored and sent.

Pure: no I/O, time from a :class:`~postillon.clock.Clock`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from postillon.clock import Clock
from postillon.dkim.canonical import (
    CRLF,
    Canon,
    body_hash,
    normalize_line_endings,
    relaxed_header,
    simple_header,
)
from postillon.dkim.errors import MalformedMessageError
from postillon.dkim.fields import HeaderField, check_line_lengths, split_message
from postillon.dkim.keys import SigningKey
from postillon.errors import ConfigError

# Signed when present: the fields a reader sees or a client acts on (RFC 6376 §5.4.1), plus
# List-Unsubscribe-Post, which RFC 8058 §4 requires to be covered by the signature.
DEFAULT_SIGNED_HEADERS: tuple[str, ...] = (
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "list-id",
    "list-help",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
# Listed once more than present: an extra From would change who the reader sees (§8.15).
DEFAULT_OVERSIGNED_HEADERS = frozenset({"from"})
# RFC 5322 §2.1.1 recommends 78 characters per line; fold the signature field to it.
FOLD_WIDTH = 78
SIGNATURE_FIELD_NAME = "DKIM-Signature"
# A selector is one or more DNS labels, a domain is a host name (RFC 6376 §3.1, §3.5 d=); this
# also keeps ";", spaces and line breaks out of the field we build.
_DNS_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?")
# Header names we sign: letters, digits, hyphens (every standard field), so h= stays a list.
_HEADER_NAME = re.compile(r"[a-z0-9-]+")


@dataclass(frozen=True)
class DkimSigner:
    """Signs messages for one ``domain`` (``d=``) with one ``selector`` (``s=``) and key.

    ``signed_headers`` are signed when present (every occurrence); those also in
    ``oversigned_headers`` are listed once more. Names are case-insensitive. Raises
    :class:`ConfigError` for a domain or selector that is not a DNS name, or for a signed
    header list without From or with a name that is not a header field name.
    """

    domain: str
    selector: str
    key: SigningKey
    clock: Clock
    signed_headers: tuple[str, ...] = DEFAULT_SIGNED_HEADERS
    oversigned_headers: frozenset[str] = field(default=DEFAULT_OVERSIGNED_HEADERS)
    expire_after: timedelta | None = None
    header_canon: Canon = Canon.RELAXED
    body_canon: Canon = Canon.RELAXED
    # (name, encoded name, extra listings): signed_headers lowercased and deduplicated once.
    _names: tuple[tuple[str, bytes, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for what, name in (("domain", self.domain), ("selector", self.selector)):
            if not _DNS_NAME.fullmatch(name) or ".." in name:
                raise ConfigError(f"dkim {what} {name!r} is not a DNS name")
        names = dict.fromkeys(n.lower() for n in self.signed_headers)
        if "from" not in names:
            raise ConfigError("dkim signed_headers must include from (RFC 6376 §5.4)")
        for name in names:
            if not _HEADER_NAME.fullmatch(name):
                raise ConfigError(f"dkim signed header {name!r} is not a header field name")
        over = {n.lower() for n in self.oversigned_headers}
        picks = tuple((n, n.encode("ascii"), int(n in over)) for n in names)
        object.__setattr__(self, "_names", picks)

    def signature_field(self, message: bytes) -> bytes:
        """The ``DKIM-Signature:`` field, folded, ending in CRLF, to prepend to ``message``.

        ``message`` is normalised to CRLF first; the caller must send the normalised bytes (or
        use :func:`sign_message`). Raises :class:`MalformedMessageError` for a message without
        From or with a header line without a colon, :class:`LineTooLongError` for a line over
        998 octets.
        """
        message = normalize_line_endings(message)
        check_line_lengths(message)
        parsed = split_message(message)
        names, picked = self._pick_fields(parsed.fields)
        if not picked or all(f.key != b"from" for f in picked):
            raise MalformedMessageError("a message must have a From field (RFC 5322 §3.6)")
        prefix = self._field_without_b(names, body_hash(parsed.body, self.body_canon))
        data = b"".join(self._canon_field(f) + CRLF for f in picked)
        data += self._canon_own(prefix)
        return prefix + _fold_b(self._sign(data)) + CRLF

    def _pick_fields(self, fields: tuple[HeaderField, ...]) -> tuple[list[str], list[HeaderField]]:
        """The ``h=`` names and the fields they select, bottom-up per name (§5.4.2)."""
        by_name: dict[bytes, list[HeaderField]] = {}
        for f in fields:
            by_name.setdefault(f.key, []).append(f)
        names: list[str] = []
        picked: list[HeaderField] = []
        for name, key, extra in self._names:
            present = by_name.get(key, [])
            names.extend([name] * (len(present) + extra))
            picked.extend(reversed(present))  # the last instance is signed first
        return names, picked

    def _field_without_b(self, names: list[str], bh: str) -> bytes:
        now = self.clock.now()
        tags = [
            "v=1;",
            f"a={self.key.key_type.algorithm};",
            f"c={self.header_canon.value}/{self.body_canon.value};",
            f"d={self.domain};",
            f"s={self.selector};",
            f"t={int(now.timestamp())};",
        ]
        if self.expire_after is not None:
            tags.append(f"x={int((now + self.expire_after).timestamp())};")
        pieces: list[tuple[str, str]] = [(" ", tag) for tag in tags]
        # h= may fold at any colon (§3.5 sig-h-tag), so a long list wraps neatly.
        h_parts = [f"{n}:" for n in names]
        h_parts[0] = "h=" + h_parts[0]
        h_parts[-1] = h_parts[-1][:-1] + ";"
        pieces.append((" ", h_parts[0]))
        pieces.extend(("", part) for part in h_parts[1:])
        pieces.append((" ", f"bh={bh};"))
        text = _fold(SIGNATURE_FIELD_NAME + ":", pieces) + "\r\n b="
        return text.encode("ascii")

    def _canon_field(self, f: HeaderField) -> bytes:
        if self.header_canon is Canon.RELAXED:
            return relaxed_header(f.name, f.value)
        return simple_header(f.raw)

    def _canon_own(self, prefix: bytes) -> bytes:
        # RFC 6376 §3.7: our own field, b= empty, canonicalized, without its final CRLF.
        if self.header_canon is Canon.RELAXED:
            return relaxed_header(SIGNATURE_FIELD_NAME.encode("ascii"), prefix.partition(b":")[2])
        return prefix

    def _sign(self, data: bytes) -> bytes:
        private = self.key.private_key
        if isinstance(private, rsa.RSAPrivateKey):
            return private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        # RFC 8463 §3: Ed25519 (pure) over the SHA-256 hash of the data.
        return private.sign(hashlib.sha256(data).digest())


def sign_message(message: bytes, signers: Iterable[DkimSigner]) -> bytes:
    """The message, CRLF-normalised, with one DKIM-Signature field per signer prepended (in
    order; e.g. RSA then Ed25519, so verifiers without Ed25519 still find a signature they
    can check). These are the bytes to store and send."""
    message = normalize_line_endings(message)
    return b"".join(s.signature_field(message) for s in signers) + message


def _fold(start: str, pieces: list[tuple[str, str]]) -> str:
    """Join ``(separator, text)`` pieces after ``start``, folding with CRLF SP before a piece
    that would pass :data:`FOLD_WIDTH`; a piece is never split."""
    out = [start]
    width = len(start)
    for sep, text in pieces:
        if width + len(sep) + len(text) > FOLD_WIDTH and width > 1:
            out.append("\r\n " + text)
            width = 1 + len(text)
        else:
            out.append(sep + text)
            width += len(sep) + len(text)
    return "".join(out)


def _fold_b(signature: bytes) -> bytes:
    """The base64 ``b=`` value, folded after `` b=`` at :data:`FOLD_WIDTH` (§3.5 allows FWS
    anywhere inside base64)."""
    text = base64.b64encode(signature)
    first = FOLD_WIDTH - len(" b=")
    rest = FOLD_WIDTH - 1
    chunks = [text[:first]] + [text[i : i + rest] for i in range(first, len(text), rest)]
    return b"\r\n ".join(chunks)
