"""The Standard Webhooks signature and the three ``webhook-*`` request headers.

Owns, exactly as the spec's "Signature scheme" and "Webhook headers" sections say: the signed
content ``{msg_id}.{timestamp}.{payload}``, the symmetric signature ``v1,<base64 HMAC-SHA256>``,
several signatures space-delimited (rotation), ``webhook-timestamp`` as integer Unix seconds.
It must not choose secrets (``secret.py``), build bodies (``events.py``) or send (``sender.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime

from postillon.webhooks.secret import WebhookSecret

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
# The spec's identifier of symmetric (HMAC-SHA256) signatures.
SIGNATURE_VERSION = "v1"
# The spec: "the message id and the timestamp [must] not ... include any `.`", or the signed
# content becomes ambiguous. Ours are also header-safe and short.
_MSG_ID = re.compile(r"[A-Za-z0-9_\-]{1,128}")


def is_valid_msg_id(msg_id: str) -> bool:
    """True if ``msg_id`` can be a webhook-id: 1-128 of ``[A-Za-z0-9_-]`` (never a ``.``)."""
    return _MSG_ID.fullmatch(msg_id) is not None


def unix_seconds(moment: datetime) -> int:
    """``webhook-timestamp``: whole seconds since the epoch (aware datetimes only)."""
    if moment.tzinfo is None:
        raise ValueError("a webhook timestamp needs an aware datetime")
    return int(moment.timestamp())


def sign(secret: WebhookSecret, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(secret, "{msg_id}.{timestamp}.{body}")>``.

    Raises ValueError for a message id that could make the signed content ambiguous.
    """
    if not is_valid_msg_id(msg_id):
        raise ValueError(f"{msg_id!r} is not a valid webhook-id")
    content = b"%s.%d.%s" % (msg_id.encode("ascii"), timestamp, body)
    digest = hmac.new(secret.key, content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(
    secrets: Sequence[WebhookSecret], msg_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one ``v1,...`` per secret, space-delimited."""
    if not secrets:
        raise ValueError("a webhook is signed with at least one secret")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def webhook_headers(
    secrets: Sequence[WebhookSecret], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (the timestamp is the attempt's)."""
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: signature_header(secrets, msg_id, timestamp, body),
    }
