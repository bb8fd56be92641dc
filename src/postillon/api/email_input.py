"""From a validated request body to what the sending service takes, and back for its problems.

Owns three translations: :class:`.email_schema.SendEmailBody` -> :class:`SendRequest`; the
request fingerprint an ``Idempotency-Key`` is bound to (SHA-256 of the canonical JSON body);
and the field names of :class:`ValidationProblem`s, which say ``to[0]`` where the caller wrote
a single string ``"to": "..."``, back to the caller's own words. Must not call services.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from postillon.api.email_schema import NamedAddressBody, SendEmailBody
from postillon.api.problems import FieldProblem
from postillon.message.errors import ValidationProblem
from postillon.message.model import Attachment, MailboxInput, NamedAddress, OutgoingEmail
from postillon.services.sending import SendRequest

# The list fields a caller may write as one value instead of a list.
_ONE_OR_MANY = ("to", "cc", "bcc", "reply_to")
# A batch problem starts with the item's index: "[3].to[0]".
_BATCH_PREFIX = re.compile(r"^\[(\d+)\]\.")


def fingerprint(body: Any) -> str:
    """The hex SHA-256 of ``body`` (parsed JSON) in canonical form: keys sorted, no spaces,
    ASCII escapes; the same request always gives the same fingerprint, however it was spaced."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def send_request(body: SendEmailBody) -> SendRequest:
    """The service request for one validated body."""
    email = OutgoingEmail(
        from_=_mailbox(body.from_),
        to=_mailboxes(body.to),
        cc=_mailboxes(body.cc),
        bcc=_mailboxes(body.bcc),
        reply_to=_mailboxes(body.reply_to),
        subject=body.subject,
        text=body.text,
        html=body.html,
        headers=tuple((body.headers or {}).items()),
        attachments=tuple(
            Attachment(
                content=a.content_octets(),
                filename=a.filename,
                content_type=a.content_type,
                content_id=a.content_id,
            )
            for a in body.attachments or ()
        ),
    )
    return SendRequest(
        email=email,
        tags=tuple(body.tags or ()),
        metadata=dict(body.metadata or {}),
        scheduled_at=body.scheduled_at,
        stream=body.stream,
        unsubscribe=body.unsubscribe,
    )


def caller_fields(
    problems: Iterable[ValidationProblem], bodies: Sequence[SendEmailBody], *, batch: bool
) -> list[FieldProblem]:
    """``problems`` with field names as the caller wrote the body (``to``, not ``to[0]``)."""
    named = []
    for problem in problems:
        field = problem.field
        prefix, index = "", 0
        if batch and (match := _BATCH_PREFIX.match(field)):
            prefix, index = match.group(0), int(match.group(1))
            field = field[len(prefix) :]
        if 0 <= index < len(bodies):
            field = _single_value_name(field, bodies[index])
        named.append(FieldProblem(prefix + field, problem.message))
    return named


def _single_value_name(field: str, body: SendEmailBody) -> str:
    for name in _ONE_OR_MANY:
        written = getattr(body, name)
        if written is None or isinstance(written, list):
            continue
        head = f"{name}[0]"
        if field == head or field.startswith(head + "."):
            return name + field[len(head) :]
    return field


def _mailbox(value: str | NamedAddressBody) -> MailboxInput:
    if isinstance(value, NamedAddressBody):
        return NamedAddress(email=value.email, name=value.name)
    return value


def _mailboxes(
    value: str | NamedAddressBody | list[str | NamedAddressBody] | None,
) -> tuple[MailboxInput, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(_mailbox(v) for v in value)
    return (_mailbox(value),)
