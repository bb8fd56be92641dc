"""DKIM errors, under the two branches of :mod:`postillon.errors`.

Nothing here is worth retrying as is: a message the signer refuses must be fixed by whoever
built it, and a key that does not open needs an operator. Hence every class is permanent,
except :class:`MasterKeyError`, which is a configuration error naming the key file.
"""

from __future__ import annotations

from postillon.errors import ConfigError, PermanentError


class MalformedMessageError(PermanentError):
    """The bytes to sign are not an RFC 5322 message (a header line without a colon, ...)."""


class LineTooLongError(MalformedMessageError):
    """A line exceeds 998 octets (RFC 5322 §2.1.1); a relay could rewrap it and break the
    signature, so the composer must fold or encode it before signing."""


class KeyFormatError(PermanentError):
    """A private key is not PEM/PKCS#8 RSA (2048 bits or more) or Ed25519."""


class SealedKeyError(PermanentError):
    """A sealed private key did not open: wrong master key, tampered data, or sealed for
    another domain or selector."""


class MasterKeyError(ConfigError):
    """The master key (from the config or its key file) is missing, malformed or too open."""
