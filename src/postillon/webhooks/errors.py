"""Webhook errors, under :mod:`postillon.errors`.

    WebhookError
    ├── UnsafeTargetError (PermanentError)   the URL or an address it resolves to is refused (SSRF)
    ├── InvalidSecretError (PermanentError)  a secret is not ``whsec_`` + base64 of 24-64 bytes
    └── InvalidFilterError (+ ValueError)    an event filter names an unknown type, or is empty

Transport failures while sending are not raised: the sender reports them in its
:class:`~postillon.webhooks.sender.DeliveryResult`, because a failed delivery is an outcome to
record and retry, not an exception.
"""

from __future__ import annotations

from postillon.errors import PermanentError


class WebhookError(PermanentError):
    """Root of the errors raised by :mod:`postillon.webhooks`."""


class UnsafeTargetError(WebhookError):
    """The webhook URL, or an address its host resolves to, may not be called (SSRF guard)."""


class InvalidSecretError(WebhookError):
    """A webhook signing secret is malformed (wrong prefix, bad base64, wrong length)."""


class InvalidFilterError(WebhookError, ValueError):
    """An endpoint's event filter names an unknown event type, or is empty."""
