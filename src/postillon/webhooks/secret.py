"""Endpoint signing secrets: ``whsec_`` + base64, generation, parsing and rotation.

Owns the secret format of the Standard Webhooks spec ("Signature scheme": symmetric secrets are
random, at least 24 bytes and at most 512 bits, serialised as base64 prefixed with ``whsec_``) and
the rotation rule: after a rotation the old secret keeps signing next to the new one until the
overlap window ends ("Webhook headers": sign with both keys so rotation has no downtime).
It must not sign anything (``signing.py``) nor store secrets; randomness is injected.
"""

from __future__ import annotations

import base64
import binascii
import secrets as _system_secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from postillon.webhooks.errors import InvalidSecretError

SECRET_PREFIX = "whsec_"  # noqa: S105 (the spec's prefix, not a secret)
# Standard Webhooks, "Signature scheme": at least 24 bytes (192 bits), at most 512 bits.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
# What we generate: 256 bits, the HMAC-SHA256 block-size sweet spot and Svix's choice.
DEFAULT_SECRET_BYTES = 32
# How long the old secret keeps signing after a rotation: a day lets a customer deploy the new
# secret to every receiver without a single rejected webhook (Svix uses the same 24 hours).
ROTATION_OVERLAP = timedelta(hours=24)

RandomBytes = Callable[[int], bytes]
"""Injected randomness: ``n`` -> ``n`` unpredictable bytes (default :func:`secrets.token_bytes`)."""


@dataclass(frozen=True, repr=False)
class WebhookSecret:
    """An HMAC key; ``str()`` gives the ``whsec_`` form shown to the customer once."""

    key: bytes

    def __post_init__(self) -> None:
        if not MIN_SECRET_BYTES <= len(self.key) <= MAX_SECRET_BYTES:
            raise InvalidSecretError(
                f"a webhook secret has {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes, "
                f"not {len(self.key)}"
            )

    def __str__(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")

    def __repr__(self) -> str:
        # Never let a secret reach a log line through repr().
        return "WebhookSecret(<redacted>)"


def generate_secret(
    random_bytes: RandomBytes = _system_secrets.token_bytes, size: int = DEFAULT_SECRET_BYTES
) -> WebhookSecret:
    """A new secret of ``size`` random bytes. Raises InvalidSecretError for a size out of range."""
    key = random_bytes(size)
    if len(key) != size:
        raise InvalidSecretError(f"the random source gave {len(key)} bytes, not {size}")
    return WebhookSecret(key)


def parse_secret(text: str) -> WebhookSecret:
    """``whsec_<base64>`` -> :class:`WebhookSecret`. Raises InvalidSecretError if malformed."""
    if not text.startswith(SECRET_PREFIX):
        raise InvalidSecretError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    encoded = text[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecretError("a webhook secret is base64 after the prefix") from exc
    return WebhookSecret(key)


@dataclass(frozen=True)
class SecretRing:
    """An endpoint's secrets: the current one and, during a rotation, the previous one.

    ``previous`` signs until ``previous_until`` (exclusive); afterwards only ``current`` signs.
    """

    current: WebhookSecret
    previous: WebhookSecret | None = None
    previous_until: datetime | None = None

    def __post_init__(self) -> None:
        if (self.previous is None) != (self.previous_until is None):
            raise InvalidSecretError("a previous secret needs the end of its overlap, and only it")

    def signing_secrets(self, now: datetime) -> tuple[WebhookSecret, ...]:
        """The secrets that sign a webhook sent at ``now``: new first, then the old in overlap."""
        if (
            self.previous is not None
            and self.previous_until is not None
            and now < self.previous_until
        ):
            return (self.current, self.previous)
        return (self.current,)

    def rotate(
        self, new: WebhookSecret, now: datetime, overlap: timedelta = ROTATION_OVERLAP
    ) -> SecretRing:
        """The ring after rotating to ``new`` at ``now``: the current secret signs for ``overlap``.

        A second rotation inside the overlap drops the oldest secret: at most two ever sign.
        """
        return SecretRing(current=new, previous=self.current, previous_until=now + overlap)
