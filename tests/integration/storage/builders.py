"""Small builders for store tests: messages and outcomes with sensible defaults."""

from __future__ import annotations

from datetime import datetime

from postillon.queue.bounce import BounceClass
from postillon.queue.status import RecipientStatus
from postillon.queue.stream import DEFAULT_STREAM, Stream
from postillon.storage import AttemptRecord, NewMessage, NewRecipient, RecipientOutcome

BODY = b"From: a@sender.test\r\nTo: x@example.test\r\nSubject: hi\r\n\r\nhello\r\n"


def message(
    account_id: str,
    *addresses: str,
    tags: tuple[str, ...] = (),
    scheduled_at: datetime | None = None,
    subject: str = "hi",
    stream: Stream = DEFAULT_STREAM,
) -> NewMessage:
    return NewMessage(
        account_id=account_id,
        mail_from="bounces@sender.test",
        recipients=tuple(NewRecipient(address) for address in addresses),
        body=BODY,
        subject=subject,
        header_message_id="<1@sender.test>",
        from_header="A <a@sender.test>",
        tags=tags,
        metadata={"order": 42},
        scheduled_at=scheduled_at,
        stream=stream,
    )


def attempt(started_at: datetime, code: int, enhanced: str | None, text: str) -> AttemptRecord:
    return AttemptRecord(
        started_at=started_at,
        duration_ms=120,
        reply_code=code,
        enhanced_code=enhanced,
        reply_text=text,
        mx_host="mx1.example.test",
        ip="127.0.0.41",
        tls_used=True,
        tls_version="TLSv1.3",
        tls_cipher="TLS_AES_256_GCM_SHA384",
        tls_verified=True,
        mta_sts_mode="enforce",
        transcript="C: EHLO\r\nS: 250 ok",
    )


def delivered(recipient_id: str, at: datetime) -> RecipientOutcome:
    return RecipientOutcome(
        recipient_id=recipient_id,
        status=RecipientStatus.DELIVERED,
        attempt=attempt(at, 250, "2.0.0", "OK queued as 1234"),
    )


def deferred(recipient_id: str, at: datetime, retry_at: datetime) -> RecipientOutcome:
    return RecipientOutcome(
        recipient_id=recipient_id,
        status=RecipientStatus.DEFERRED,
        attempt=attempt(at, 451, "4.7.1", "Greylisted, try again later"),
        next_attempt_at=retry_at,
        bounce_class=BounceClass.RATE_LIMIT,
    )


def hard_bounce(recipient_id: str, at: datetime) -> RecipientOutcome:
    return RecipientOutcome(
        recipient_id=recipient_id,
        status=RecipientStatus.BOUNCED,
        attempt=attempt(
            at, 550, "5.1.1", "The email account that you tried to reach does not exist"
        ),
        bounce_class=BounceClass.BAD_MAILBOX,
        suppress=True,
    )
