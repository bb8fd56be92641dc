"""What the email routes answer: response models and their making from stored views.

Owns the JSON of a sent email as read back: per-recipient status and every attempt with where
it went (MX host, IP), what the server said (reply code, enhanced status, text), how it was
protected (TLS version, cipher, verified or why not; MTA-STS mode and policy id) and how long
it took. SMTP transcripts stay out (they are for the dashboard). Must not read the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from postillon.queue.bounce import BounceClass
from postillon.queue.status import RecipientStatus
from postillon.queue.stream import Stream
from postillon.services.sending import SendResult
from postillon.storage.records import (
    AttemptView,
    CancelResult,
    MessageView,
    Page,
    RecipientView,
)

AcceptedStatus = Literal["queued", "scheduled", "suppressed"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class EmailAccepted(_Out):
    """The answer to a send: the id to look the email up by, and where it stands."""

    id: str
    status: AcceptedStatus = Field(
        description="queued; scheduled (scheduled_at in the future); suppressed (every "
        "recipient is on the account's suppression list, nothing will be sent)."
    )


class BatchAccepted(_Out):
    """The answer to a batch send, in the order of the request."""

    data: list[EmailAccepted]


class ReplyOut(_Out):
    """An SMTP reply (RFC 5321 §4.2) and its enhanced status code (RFC 3463)."""

    code: int | None
    enhanced_code: str | None
    text: str | None


class TlsOut(_Out):
    """The TLS of an attempt: used at all, protocol version, cipher, whether the certificate
    verified, and why not (or why TLS was not used); the transport-security policy that applied,
    the TLSA record that authenticated the server under DANE, and why a session was refused."""

    used: bool
    version: str | None
    cipher: str | None
    verified: bool | None
    reason: str | None
    policy: str | None = Field(
        default=None,
        description="dane, mta-sts-enforce, mta-sts-testing or opportunistic (precedence in "
        "that order); null for attempts recorded before it was kept.",
    )
    dane_tlsa: str | None = Field(
        default=None, description='The matching TLSA record\'s "usage selector matching".'
    )
    refusal: str | None = Field(
        default=None, description="Why the session was refused (DANE, MTA-STS), if it was."
    )
    result: str | None = Field(
        default=None,
        description="The TLS-RPT result type (RFC 8460 §4.3) of a failed or non-compliant "
        "session, e.g. tlsa-invalid, starttls-not-supported; null when it complied.",
    )


class MtaStsOut(_Out):
    """The recipient domain's MTA-STS policy (RFC 8461) when the attempt was made."""

    mode: str | None
    policy_id: str | None


class AttemptOut(_Out):
    """One delivery attempt to one recipient."""

    number: int
    started_at: datetime
    duration_ms: int
    mx_host: str | None
    ip: str | None
    reply: ReplyOut
    tls: TlsOut
    mta_sts: MtaStsOut


class RecipientOut(_Out):
    """One recipient: its status, its last reply, and (in ``GET /v1/emails/{id}``) every
    attempt, oldest first. Listings leave ``attempts`` empty."""

    id: str
    address: str
    status: RecipientStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_reply: ReplyOut
    bounce_class: BounceClass | None
    possible_duplicate: bool = Field(
        description="The connection broke after the data was sent: the receiver may have it."
    )
    updated_at: datetime
    attempts: list[AttemptOut]


class EmailOut(_Out):
    """A sent email as read back."""

    id: str
    from_: str = Field(serialization_alias="from")
    mail_from: str = Field(description="The envelope sender (bounce address).")
    subject: str
    message_id: str = Field(description="The Message-ID header field.")
    size: int
    tags: list[str]
    metadata: dict[str, str]
    created_at: datetime
    scheduled_at: datetime | None
    stream: Stream = Field(description="transactional or broadcast (the claim order).")
    recipients: list[RecipientOut] = Field(
        description="Every recipient; in a listing only the first 20 (see recipient_count)."
    )
    recipient_count: int = Field(description="How many recipients the email has.")
    source: str = Field(default="api", description='How it came in: "api" or "smtp".')
    api_key_prefix: str | None = Field(
        default=None, description="The shown prefix of the API key that sent it (SMTP AUTH)."
    )


class EmailCancelled(_Out):
    """What a cancel did: recipients that were waiting are cancelled (never sent); those being
    delivered at that moment could not be stopped; the others had finished already."""

    id: str
    cancelled: int = Field(description="Recipients that were waiting and are now cancelled.")
    in_flight: int = Field(
        description="Recipients being delivered at that moment: left alone, their outcome "
        "follows as usual."
    )
    finished: int = Field(description="Recipients already delivered, bounced or otherwise final.")


class EmailPage(_Out):
    """One page of emails, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    data: list[EmailOut]
    next_cursor: str | None


def accepted(result: SendResult) -> EmailAccepted:
    """The answer for one stored email (the status checked against the documented ones)."""
    return EmailAccepted.model_validate({"id": result.id, "status": result.status})


def attempt_out(view: AttemptView) -> AttemptOut:
    """The JSON of one attempt."""
    r = view.record
    return AttemptOut(
        number=view.number,
        started_at=r.started_at,
        duration_ms=r.duration_ms,
        mx_host=r.mx_host,
        ip=r.ip,
        reply=ReplyOut(code=r.reply_code, enhanced_code=r.enhanced_code, text=r.reply_text),
        tls=TlsOut(
            used=r.tls_used,
            version=r.tls_version,
            cipher=r.tls_cipher,
            verified=r.tls_verified,
            reason=r.tls_reason,
            policy=r.tls_policy,
            dane_tlsa=r.dane_tlsa,
            refusal=r.tls_refusal,
            result=r.tls_result,
        ),
        mta_sts=MtaStsOut(mode=r.mta_sts_mode, policy_id=r.mta_sts_policy_id),
    )


def recipient_out(view: RecipientView) -> RecipientOut:
    """The JSON of one recipient, with its attempts when the view carries them."""
    return RecipientOut(
        id=view.id,
        address=view.address,
        status=view.status,
        attempt_count=view.attempts,
        next_attempt_at=view.next_attempt_at,
        last_reply=ReplyOut(
            code=view.last_reply_code,
            enhanced_code=view.last_enhanced_code,
            text=view.last_reply_text,
        ),
        bounce_class=view.bounce_class,
        possible_duplicate=view.possible_duplicate,
        updated_at=view.updated_at,
        attempts=[attempt_out(a) for a in view.attempt_log],
    )


def email_out(view: MessageView) -> EmailOut:
    """The JSON of one email."""
    return EmailOut(
        id=view.id,
        from_=view.from_header,
        mail_from=view.mail_from,
        subject=view.subject,
        message_id=view.header_message_id,
        size=view.size,
        tags=list(view.tags),
        metadata={str(k): str(v) for k, v in view.metadata.items()},
        created_at=view.created_at,
        scheduled_at=view.scheduled_at,
        stream=view.stream,
        recipients=[recipient_out(r) for r in view.recipients],
        source=view.source,
        api_key_prefix=view.api_key_prefix,
        recipient_count=view.total_recipients,
    )


def email_cancelled(email_id: str, result: CancelResult) -> EmailCancelled:
    """The JSON of a cancel's counts."""
    return EmailCancelled(
        id=email_id,
        cancelled=result.cancelled,
        in_flight=result.in_flight,
        finished=result.finished,
    )


def email_page(page: Page) -> EmailPage:
    """The JSON of one page."""
    return EmailPage(data=[email_out(v) for v in page.items], next_cursor=page.next_cursor)
