"""Header field text: RFC 2047 encoded words, RFC 2231 parameters, and folding.

Owns turning values into folded header lines: every line CRLF-terminated, at most 78 characters
where a break is possible (RFC 5322 §2.1.1) and never over 998 octets. Must not decide which
fields exist or validate input; callers pass values that :mod:`validate` accepted.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

from postillon.message.address import Address
from postillon.message.errors import InvalidMessageError, ValidationProblem

CRLF = "\r\n"
# RFC 5322 §2.1.1: lines SHOULD be at most 78 characters (we fold there) ...
FOLD_AT = 78
# ... and MUST be at most 998 octets, excluding the CRLF.
MAX_LINE_OCTETS = 998
# RFC 2047 §2: an encoded word is at most 75 characters. "=?utf-8?B?" + "?=" take 12, leaving
# 63 base64 characters, i.e. 45 octets of UTF-8 per word (whole characters only, §5).
_EW_PREFIX, _EW_SUFFIX = "=?utf-8?B?", "?="
MAX_ENCODED_WORD_OCTETS = 45
# RFC 2231 §3: each continuation of an encoded parameter carries this many characters at most,
# so "filename*12*=" plus the value stays inside 78.
PARAM_CHUNK_CHARS = 60
# A plain ASCII word longer than this cannot share a line with "Name: ": encode it instead.
MAX_PLAIN_WORD = 900

# RFC 5322 §3.2.3 atext: a display name of atoms separated by single spaces needs no quoting.
_PHRASE_ATOMS = re.compile(
    r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?: [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*"
)
# RFC 2231 §7 attribute-char, further restricted to what every parser accepts unescaped.
_PARAM_SAFE = re.compile(r"[A-Za-z0-9._\-]")
# A token of a field value: leading spaces (where a fold may go) and a word.
_TOKEN = re.compile(r" *[^ ]+")


def fold(name: str, tokens: Sequence[str]) -> str:
    """``name: tokens...`` folded before any token that starts with a space, CRLF-terminated.

    The first token must not start with a space; later ones do when a fold may precede them.
    """
    line = f"{name}:"
    lines: list[str] = []
    for index, token in enumerate(tokens):
        if index == 0:
            line += " " + token
            continue
        if len(line) + len(token) > FOLD_AT and token.startswith(" "):
            lines.append(line)
            line = ""
        line += token
    lines.append(line)
    for done in lines:
        # Validation keeps every word far below this; should a field slip through anyway, the
        # message is refused (not an assert: ``python -O`` would drop it and send the line).
        if len(done.encode()) > MAX_LINE_OCTETS:
            raise InvalidMessageError(
                [
                    ValidationProblem(
                        name, f"cannot be folded into lines of {MAX_LINE_OCTETS} octets"
                    )
                ]
            )
    return CRLF.join(lines) + CRLF


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 B-encoded UTF-8 words, each whole characters, space-separated."""
    chunks: list[bytes] = []
    chunk = b""
    for char in text:
        octets = char.encode("utf-8")
        if chunk and len(chunk) + len(octets) > MAX_ENCODED_WORD_OCTETS:
            chunks.append(chunk)
            chunk = b""
        chunk += octets
    chunks.append(chunk)
    words = [_EW_PREFIX + base64.b64encode(c).decode("ascii") + _EW_SUFFIX for c in chunks]
    return [words[0]] + [" " + word for word in words[1:]]


def unstructured_tokens(text: str) -> list[str]:
    """Tokens for an unstructured value (Subject, X-*): plain when safe, else encoded words.

    Plain needs printable ASCII without tabs, leading/trailing spaces, over-long words, or
    anything a reader would take for an encoded word ("=?"), so the value unfolds unchanged.
    """
    if text == "":
        return []
    plain = (
        text.isascii()
        and text.isprintable()
        and text.strip(" ") == text
        and "=?" not in text
        and all(len(word) <= MAX_PLAIN_WORD for word in text.split(" "))
    )
    return _TOKEN.findall(text) if plain else encoded_words(text)


def structured_tokens(text: str) -> list[str]:
    """Tokens for a structured ASCII value (References, List-*): foldable at its spaces."""
    return _TOKEN.findall(" ".join(text.split()))


def phrase_tokens(name: str) -> list[str]:
    """A display name (RFC 5322 §3.2.5 phrase): atoms, a quoted-string, or encoded words."""
    if "=?" in name:  # a reader would decode it as an encoded word (RFC 2047 §6.1)
        return encoded_words(name)
    if _PHRASE_ATOMS.fullmatch(name):
        return _TOKEN.findall(name)
    if name.isascii() and name.isprintable():
        return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return encoded_words(name)


def address_list_tokens(addresses: Sequence[Address]) -> list[str]:
    """Tokens for a list of mailboxes (From, To, Cc, Reply-To), comma-separated."""
    tokens: list[str] = []
    for address in addresses:
        spec = address.addr_spec
        parts = (
            [*phrase_tokens(address.display_name), f" <{spec}>"] if address.display_name else [spec]
        )
        if tokens:
            tokens[-1] += ","
            parts[0] = " " + parts[0]
        tokens.extend(parts)
    return tokens


def param_tokens(value: str, params: Sequence[tuple[str, str]]) -> list[str]:
    """``value; key=...`` tokens for Content-Type / Content-Disposition (RFC 2045, RFC 2231).

    Short printable ASCII without quotes or backslashes goes in a quoted-string; anything else
    uses RFC 2231 §4 encoded, continued parameters (``key*0*=utf-8''...``).
    """
    tokens = [value]
    for key, raw in params:
        tokens[-1] += ";"
        # Quotes and backslashes inside a quoted parameter confuse parsers: encode those too.
        plain = raw.isascii() and raw.isprintable() and not {'"', "\\"} & set(raw)
        if plain and len(raw) <= PARAM_CHUNK_CHARS:
            tokens.append(f' {key}="{raw}"')
            continue
        chunks = _percent_chunks(raw)
        if len(chunks) == 1:
            tokens.append(f" {key}*=utf-8''{chunks[0]}")
            continue
        for number, chunk in enumerate(chunks):
            prefix = "utf-8''" if number == 0 else ""
            tokens.append(f" {key}*{number}*={prefix}{chunk}")
            if number < len(chunks) - 1:
                tokens[-1] += ";"
    return tokens


def _percent_chunks(text: str) -> list[str]:
    """RFC 2231 §4 percent-encoded UTF-8, cut into chunks that never split a %XX."""
    chunks: list[str] = []
    current = ""
    for octet in text.encode("utf-8"):
        char = chr(octet)
        piece = char if _PARAM_SAFE.fullmatch(char) else f"%{octet:02X}"
        if len(current) + len(piece) > PARAM_CHUNK_CHARS:
            chunks.append(current)
            current = ""
        current += piece
    chunks.append(current)
    return chunks
