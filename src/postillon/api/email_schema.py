"""The JSON a caller sends to ``POST /v1/emails`` (and each item of a batch), as pydantic models.

Owns the request shape and its OpenAPI document: unknown fields are refused (``extra="forbid"``,
a typo is a 422 naming it, never silently dropped), ``to``/``cc``/``bcc``/``reply_to`` take a
string or a list, a mailbox is ``"Name <a@b.example>"`` or ``{"email", "name"}``. Tags are a
list of strings (``["welcome", "plan:pro"]``), what the listing filter ``tag`` matches.
Addresses, headers and bodies are checked by :mod:`postillon.message` (every problem at once,
header injection included); this module checks only the JSON shape, tags, metadata and dates.
Must not build messages (see :mod:`.email_input`).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
)

from postillon.queue.stream import DEFAULT_STREAM, Stream

# Tags are filter keys, not prose: a short, URL-safe alphabet keeps them unambiguous in a query.
TAG_PATTERN = r"^[A-Za-z0-9_.:=/-]{1,100}$"
MAX_TAGS = 20
# Metadata is echoed in every event of the message: keep it a small, flat string map.
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
MAX_METADATA_ENTRIES = 50
MAX_METADATA_VALUE_CHARS = 1000
# Control characters, and lone surrogates (JSON "\ud800" parses to one; no store can keep it).
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
# The tags our tagged unions use: field_paths drops "<...>" parts from error locations.
STRING_TAG = "<string>"
OBJECT_TAG = "<object>"
ONE_TAG = "<one>"
LIST_TAG = "<list>"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NamedAddressBody(_Strict):
    """A mailbox as an object: the address and an optional display name."""

    email: str = Field(examples=["ada@example.com"])
    name: str | None = Field(default=None, examples=["Ada Lovelace"])


def _one_kind(value: Any) -> str | None:
    # Called on JSON input (str, dict) and, when serializing, on validated values.
    if isinstance(value, str):
        return STRING_TAG
    return OBJECT_TAG if isinstance(value, dict | NamedAddressBody) else None


def _one_or_many(value: Any) -> str | None:
    if isinstance(value, list):
        return LIST_TAG
    return ONE_TAG if _one_kind(value) is not None else None


_MAILBOX_ERROR = "must be an address string or an object {email, name}"

Mailbox = Annotated[
    Annotated[str, Tag(STRING_TAG)] | Annotated[NamedAddressBody, Tag(OBJECT_TAG)],
    Discriminator(
        _one_kind,
        custom_error_type="mailbox_type",
        custom_error_message=_MAILBOX_ERROR,
    ),
]
# No list of recipients may be longer than the highest ``[api] max_recipients_per_message``
# allowed; refused while the JSON is read, before any address is parsed.
MAX_LISTED_MAILBOXES = 1000
Mailboxes = Annotated[
    Annotated[Mailbox, Tag(ONE_TAG)]
    | Annotated[list[Mailbox], Tag(LIST_TAG), Field(max_length=MAX_LISTED_MAILBOXES)],
    Discriminator(
        _one_or_many,
        custom_error_type="mailboxes_type",
        custom_error_message=_MAILBOX_ERROR + ", or a list of them",
    ),
]


def _rfc3339_string(value: Any) -> Any:
    # Lax pydantic takes numbers as Unix times; the API promises RFC 3339 text only.
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time string, e.g. 2026-12-01T09:30:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc


def _storable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("has control characters or invalid Unicode")
    return value


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("is not valid base64 (RFC 4648 §4)") from exc
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_string), AfterValidator(_in_utc)]
EmailTag = Annotated[str, Field(pattern=TAG_PATTERN)]
MetadataKey = Annotated[str, Field(pattern=METADATA_KEY_PATTERN)]
MetadataValue = Annotated[
    str, Field(max_length=MAX_METADATA_VALUE_CHARS), AfterValidator(_storable)
]


class AttachmentBody(_Strict):
    """A file: base64 content, its name and type; a ``content_id`` makes it inline (``cid:``)."""

    content: Annotated[str, AfterValidator(_base64)] = Field(
        description="The file's octets, base64 (RFC 4648 §4, padded).", examples=["aGVsbG8="]
    )
    filename: str = Field(examples=["invoice.pdf"])
    content_type: str = Field(default="application/octet-stream", examples=["application/pdf"])
    content_id: str | None = Field(
        default=None, description="Makes the part inline: the HTML refers to it as cid:<id>."
    )

    def content_octets(self) -> bytes:
        """The decoded content (validated as base64 already)."""
        return base64.b64decode(self.content, validate=True)


class SendEmailBody(_Strict):
    """One email to send."""

    from_: Mailbox = Field(alias="from", description="The sender; its domain must be verified.")
    to: Mailboxes | None = None
    cc: Mailboxes | None = None
    bcc: Mailboxes | None = None
    reply_to: Mailboxes | None = None
    subject: str = ""
    text: str | None = None
    html: str | None = None
    headers: dict[str, str] | None = Field(
        default=None, description="Extra header fields: X-* and a few list/threading fields."
    )
    attachments: list[AttachmentBody] | None = None
    tags: list[EmailTag] | None = Field(default=None, max_length=MAX_TAGS)
    metadata: dict[MetadataKey, MetadataValue] | None = Field(
        default=None,
        max_length=MAX_METADATA_ENTRIES,
        description="String pairs kept with the message and echoed in its events.",
    )
    scheduled_at: Rfc3339 | None = Field(
        default=None,
        description="RFC 3339; the first attempt waits until then (at most 30 days ahead; the"
        " queue lifetime counts from it).",
    )
    stream: Stream = Field(
        default=DEFAULT_STREAM,
        description="transactional (default) or broadcast: an account's transactional mail "
        "is sent before its broadcast mail.",
    )
    unsubscribe: bool | None = Field(
        default=None,
        description="Add one-click unsubscribe (RFC 8058): List-Unsubscribe and "
        "List-Unsubscribe-Post, DKIM-signed; needs exactly one recipient. Absent: the sender "
        "domain's unsubscribe_default (applied to single-recipient mail).",
    )
