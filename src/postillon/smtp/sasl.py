"""SASL for the server: decoding PLAIN (RFC 4616) and LOGIN responses into credentials.

Owns base64 decoding (RFC 4954 §4: responses are base64, "*" cancels) and splitting a PLAIN
message into authorization identity, user name and password. Must not check credentials,
log them, or keep them past the call.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from enum import StrEnum

# RFC 4954 §4: an AUTH command line or a SASL response may be up to 12,288 octets.
MAX_SASL_LINE_OCTETS = 12288
# RFC 4954 §4: the challenge for LOGIN's two prompts (base64 "Username:" / "Password:").
LOGIN_USER_PROMPT = base64.b64encode(b"Username:").decode()
LOGIN_PASSWORD_PROMPT = base64.b64encode(b"Password:").decode()
CANCEL = "*"


class Mechanism(StrEnum):
    """The SASL mechanisms the server core speaks."""

    PLAIN = "PLAIN"
    LOGIN = "LOGIN"


@dataclass(frozen=True)
class Credentials:
    """What the client proved itself with. ``repr`` never shows the password."""

    mechanism: Mechanism
    username: str
    password: str = field(repr=False)
    authzid: str = ""


class SaslError(ValueError):
    """A response that is not valid base64, UTF-8 or mechanism syntax."""


class SaslCancelled(Exception):
    """The client answered "*" (RFC 4954 §4)."""


class SaslExchange:
    """One AUTH dialogue. ``step`` takes each client response (the initial response first,
    "" when there was none) and returns the next challenge to send after 334, or the
    :class:`Credentials` once complete. Raises SaslError or SaslCancelled."""

    def __init__(self, mechanism: Mechanism) -> None:
        self.mechanism = mechanism
        self._started = False
        self._user: str | None = None

    def step(self, text: str) -> str | Credentials:
        """Advance with the client's response ``text`` (base64, "=" or "*")."""
        if not self._started:
            self._started = True
            if not text:
                return "" if self.mechanism is Mechanism.PLAIN else LOGIN_USER_PROMPT
        if text == CANCEL:
            raise SaslCancelled
        response = decode_response(text)
        if self.mechanism is Mechanism.PLAIN:
            return parse_plain(response)
        if self._user is None:
            self._user = login_text(response)
            return LOGIN_PASSWORD_PROMPT
        return Credentials(Mechanism.LOGIN, self._user, login_text(response))


def decode_response(text: str) -> bytes:
    """The bytes of a base64 response; "=" is the empty response (RFC 4954 §4)."""
    if text == "=":
        return b""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise SaslError("response is not base64") from error


def parse_plain(message: bytes) -> Credentials:
    """RFC 4616 §2: ``[authzid] NUL authcid NUL passwd``, each UTF-8."""
    parts = message.split(b"\0")
    if len(parts) != 3:
        raise SaslError("PLAIN needs authzid NUL user NUL password")
    authzid, user, password = (_text(part) for part in parts)
    if not user or not password:
        raise SaslError("PLAIN needs a user name and a password")
    return Credentials(Mechanism.PLAIN, user, password, authzid)


def login_text(response: bytes) -> str:
    """A LOGIN user name or password as text."""
    text = _text(response)
    if "\0" in text:
        raise SaslError("NUL in a LOGIN response")
    return text


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SaslError("not UTF-8") from error
