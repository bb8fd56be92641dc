"""Canonicalization (RFC 6376 §3.4): the exact bytes that DKIM hashes.

Owns line-ending normalisation, the ``simple`` and ``relaxed`` algorithms for header fields
and bodies, and the body hash (``bh=``). Pure functions over bytes: no parsing of the header
section (see :mod:`postillon.dkim.fields`), no keys, no I/O.

Line endings: DKIM is defined over CRLF lines. Input with bare LF (or bare CR) is normalised to
CRLF first, with :func:`normalize_line_endings`; the bytes that go out must be normalised the
same way, which the signer's ``sign_message`` guarantees by returning them.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re

CRLF = b"\r\n"

# A bare CR or LF, or a CRLF pair, is one line ending; all become CRLF (RFC 5322 §2.1 allows
# CR and LF only together; RFC 5321 §2.3.8 forbids them alone on the wire).
_LINE_ENDING = re.compile(rb"\r\n|\r|\n")
# RFC 6376 §2.8: WSP is SP or HTAB.
_WSP_RUN = re.compile(rb"[ \t]+")
# The runs relaxed canonicalization changes: a single SP already is its own canonical form,
# and leaving it alone makes the common body (words and single spaces) nearly free.
_WSP_TO_REDUCE = re.compile(rb"[ \t]{2,}|\t")
_FOLD = re.compile(rb"\r\n(?=[ \t])")


class Canon(enum.Enum):
    """A canonicalization algorithm, as named in the ``c=`` tag."""

    SIMPLE = "simple"
    RELAXED = "relaxed"


def normalize_line_endings(data: bytes) -> bytes:
    """Return ``data`` with every CRLF, bare CR and bare LF turned into CRLF (idempotent)."""
    if b"\r" not in data and b"\n" not in data:
        return data
    if data.count(CRLF) == data.count(b"\n") == data.count(b"\r"):
        return data  # already all CRLF: the common case, skip the rewrite
    return _LINE_ENDING.sub(CRLF, data)


def simple_body(body: bytes) -> bytes:
    """RFC 6376 §3.4.3: drop empty lines at the end; an empty body becomes one CRLF.

    ``body`` must already use CRLF line endings.
    """
    # After normalisation the trailing CR/LF bytes are whole CRLF pairs: the empty lines
    # and the last line's own ending, which is put back.
    return body.rstrip(CRLF) + CRLF


def relaxed_body(body: bytes) -> bytes:
    """RFC 6376 §3.4.4: drop WSP at line ends, reduce WSP runs to one SP, drop empty lines
    at the end, end a non-empty body with CRLF; an empty body stays empty.

    ``body`` must already use CRLF line endings.
    """
    if b"\t" in body or b"  " in body:
        body = _WSP_TO_REDUCE.sub(b" ", body)
    # Every WSP run is now one SP: the WSP at a line end is one SP before CRLF (or at the end).
    out = body.replace(b" " + CRLF, CRLF).rstrip(b" ").rstrip(CRLF)
    return out + CRLF if out else b""


def canonicalize_body(body: bytes, canon: Canon) -> bytes:
    """Normalise line endings, then apply ``canon`` to the body."""
    body = normalize_line_endings(body)
    return relaxed_body(body) if canon is Canon.RELAXED else simple_body(body)


def body_hash(body: bytes, canon: Canon) -> str:
    """The ``bh=`` value: base64 of SHA-256 over the canonical body (RFC 6376 §3.7)."""
    digest = hashlib.sha256(canonicalize_body(body, canon)).digest()
    return base64.b64encode(digest).decode("ascii")


def relaxed_header(name: bytes, value: bytes) -> bytes:
    """RFC 6376 §3.4.2 for one field, without its final CRLF: ``name`` lowercased and stripped,
    ``value`` unfolded, WSP runs reduced to one SP, WSP at both ends removed."""
    value = _WSP_RUN.sub(b" ", _FOLD.sub(b"", value)).strip(b" ")
    return name.strip(b" \t").lower() + b":" + value


def simple_header(raw: bytes) -> bytes:
    """RFC 6376 §3.4.1: the field exactly as it is, without its final CRLF."""
    return raw[:-2] if raw.endswith(CRLF) else raw
