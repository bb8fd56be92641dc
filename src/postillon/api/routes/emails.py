"""``/v1/emails``: send one, send a batch, read one back, list and search them, cancel one.

A send answers 202 only after the sending service returned, which it does only after the
commit: the id in the answer is durable. ``Idempotency-Key`` binds the key to the SHA-256 of
the canonical JSON body (:func:`.email_input.fingerprint`): the same body within 24 h answers
the first result again, another body 409. Must not validate messages itself (message/ does,
through the service) nor read the store directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Header, Query

from postillon.api.context import Context, CurrentAccount
from postillon.api.email_input import caller_fields, fingerprint, send_request
from postillon.api.email_schema import Rfc3339, SendEmailBody
from postillon.api.email_views import (
    BatchAccepted,
    EmailAccepted,
    EmailCancelled,
    EmailOut,
    EmailPage,
    accepted,
    email_cancelled,
    email_out,
    email_page,
)
from postillon.api.openapi_errors import error_responses
from postillon.api.problems import invalid
from postillon.message.errors import InvalidMessageError
from postillon.queue.status import RecipientStatus
from postillon.queue.stream import Stream
from postillon.services.idempotency import MAX_IDEMPOTENCY_KEY_CHARS
from postillon.services.sending import MAX_BATCH, MAX_PAGE_SIZE
from postillon.storage.records import MessageFilter

# A page size that shows a screenful without making every listing heavy.
DEFAULT_PAGE_SIZE = 20
# No address, tag or cursor is longer than a header line (RFC 5322 §2.1.1).
MAX_QUERY_CHARS = 998

router = APIRouter(prefix="/v1/emails", tags=["emails"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        description="Repeat a request safely: the same key and body within 24 h answer the "
        "first result again; the same key with another body is a 409.",
    ),
]


def _refused(
    error: InvalidMessageError, bodies: Sequence[SendEmailBody], *, batch: bool
) -> Exception:
    status = 413 if error.is_too_large else 422
    return invalid(caller_fields(error.problems, bodies, batch=batch), status=status)


@router.post(
    "",
    status_code=202,
    summary="Send an email",
    responses=error_responses(401, 403, 409, 413, 422, 429, 503),
)
async def send_email(
    body: SendEmailBody,
    account: CurrentAccount,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> EmailAccepted:
    """Validate, sign and queue one email; 202 once it is stored."""
    sent_as = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    try:
        result = await context.services.sending.send(
            account,
            send_request(body),
            idempotency_key=idempotency_key,
            fingerprint=fingerprint(sent_as) if idempotency_key is not None else "",
        )
    except InvalidMessageError as error:
        raise _refused(error, [body], batch=False) from error
    return accepted(result)


@router.post(
    "/batch",
    status_code=202,
    summary="Send up to 100 emails at once",
    responses=error_responses(401, 403, 409, 413, 422, 429, 503),
)
async def send_batch(
    bodies: Annotated[list[SendEmailBody], Body(min_length=1, max_length=MAX_BATCH)],
    account: CurrentAccount,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> BatchAccepted:
    """All or none: every email is checked before any is stored; problems name the item
    (``[3].to[0]``). One commit stores them all."""
    sent_as = [b.model_dump(mode="json", by_alias=True, exclude_unset=True) for b in bodies]
    try:
        results = await context.services.sending.send_batch(
            account,
            [send_request(b) for b in bodies],
            idempotency_key=idempotency_key,
            fingerprint=fingerprint(sent_as) if idempotency_key is not None else "",
        )
    except InvalidMessageError as error:
        raise _refused(error, bodies, batch=True) from error
    return BatchAccepted(data=[accepted(r) for r in results])


@router.get(
    "/{email_id}",
    summary="An email with each recipient's status and every attempt",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def get_email(email_id: str, account: CurrentAccount, context: Context) -> EmailOut:
    """404 for an unknown id, and for another account's."""
    return email_out(await context.services.sending.get(account, email_id))


@router.post(
    "/{email_id}/cancel",
    summary="Cancel an email's waiting recipients",
    responses=error_responses(401, 404, 422, 429, 503),
)
async def cancel_email(email_id: str, account: CurrentAccount, context: Context) -> EmailCancelled:
    """Recipients still queued or deferred are cancelled (status ``cancelled``, an
    ``email.cancelled`` event each) and never sent; the email, its recipients and attempts are
    kept. A recipient being delivered at this moment cannot be stopped: it is counted in
    ``in_flight``. Cancelling again is harmless. 404 for an unknown id, and for another
    account's."""
    result = await context.services.sending.cancel(account, email_id)
    return email_cancelled(email_id, result)


@router.get(
    "",
    summary="List emails, newest first",
    responses=error_responses(401, 422, 429, 503),
)
async def list_emails(
    *,
    account: CurrentAccount,
    context: Context,
    status: Annotated[
        RecipientStatus | None, Query(description="At least one recipient in this status.")
    ] = None,
    recipient: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_CHARS, description="At least one recipient with this address."),
    ] = None,
    tag: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
    stream: Annotated[Stream | None, Query(description="transactional or broadcast.")] = None,
    sender: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_CHARS,
            description="Part of the envelope sender or the From address, in any case.",
        ),
    ] = None,
    subject: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_CHARS, description="Part of the subject, in any case."),
    ] = None,
    message_id: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_CHARS,
            description="The Message-ID header field, with or without its angle brackets.",
        ),
    ] = None,
    created_after: Annotated[Rfc3339 | None, Query(description="Inclusive, RFC 3339.")] = None,
    created_before: Annotated[Rfc3339 | None, Query(description="Exclusive, RFC 3339.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
) -> EmailPage:
    """One page of the account's emails; ``next_cursor`` is null on the last page."""
    filters = MessageFilter(
        status=status,
        recipient=recipient,
        tag=tag,
        created_after=created_after,
        created_before=created_before,
        sender=sender,
        subject=subject,
        header_message_id=message_id,
        stream=stream,
    )
    page = await context.services.sending.list(account, filters, limit, cursor)
    return email_page(page)
