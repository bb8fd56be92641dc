"""Sending: an API or library request becomes a signed message in the queue, or an error.

The path of one request: validate (message.validate) -> the From domain must be a verified
sender domain of the account (or, when every recipient is at the sandbox's simulator domain,
one it has added and not verified yet: signed with its pending key) -> compose
(message.compose; Message-ID in the sender's domain) -> with ``unsubscribe``,
List-Unsubscribe / List-Unsubscribe-Post (services.unsubscribe) -> DKIM-sign with the
domain's active key (in a small thread pool: the RSA signature releases the GIL, so it can run
on a second core) -> enqueue with the envelope sender
``bounces+<id>-<tag>@pstbounces.<domain>`` (so SPF aligns under DMARC; the keyed tag lets the
inbound listener refuse reports to addresses we never used) -> answer after the commit (a unit
of the grouped ingest commit, so concurrent requests from every door share commits;
storage/ingest_groups.py, storage/writer.py).
An Idempotency-Key is stored with the messages in the same transaction; the same key with the
same request fingerprint within 24 h answers the first result again, another fingerprint is a
conflict.
A message an SMTP client composed (``send_submitted``) skips validate/compose: its own bytes
are made ready to sign (message.submitted), its From domain checked and signed the same way,
and it takes the same ``_enqueue`` (source "smtp", the key's prefix).
Cancelling keeps the message and its history: waiting recipients become CANCELLED.
It must not know about HTTP or SMTP, nor deliver (the engine reads the queue).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from postillon.clock import Clock
from postillon.config.settings import ApiSettings
from postillon.dkim import DkimSigner, sign_message
from postillon.domains import TagKey, tagged_bounce_address
from postillon.domains.errors import InvalidDomainError
from postillon.domains.names import normalize_domain
from postillon.message.compose import ComposedMessage, compose
from postillon.message.errors import InvalidMessageError, ValidationProblem
from postillon.message.model import OutgoingEmail
from postillon.message.submitted import Trace, prepare_submitted
from postillon.message.validate import validate
from postillon.queue.status import RecipientStatus
from postillon.queue.stream import DEFAULT_STREAM, Stream
from postillon.services.errors import DomainNotVerifiedError, NotFoundError
from postillon.services.idempotency import IDEMPOTENCY_TTL, idempotency_key, replayed
from postillon.services.signers import SignerCache
from postillon.services.unsubscribe import UnsubscribeService
from postillon.services.unsubscribe import problem_with as unsubscribe_problem
from postillon.storage.errors import StorageError
from postillon.storage.idempotency_sql import IdempotencyKey, SqlIngest
from postillon.storage.protocol import Store
from postillon.storage.records import (
    Account,
    CancelResult,
    EnqueueResult,
    MessageFilter,
    MessageView,
    NewMessage,
    NewRecipient,
    Page,
)

# The API's batch limit: one transaction, one commit, and a request body that stays small.
MAX_BATCH = 100
# Recipients one request (a batch) may carry in all, whatever [api] max_recipients_per_message
# allows each message: one transaction holds the write lock while it inserts a row and an event
# per recipient, so this bounds it (100 messages of the default 50).
MAX_BATCH_RECIPIENTS = 5000
# How far ahead ``scheduled_at`` may be: 30 days, the longest the big ESPs allow (SendGrid 72 h,
# Mailgun 3-7 days, Resend 30 days). The queue lifetime counts from the schedule, so a message
# may stay queued up to this plus [retry] max_lifetime_s.
MAX_SCHEDULE_AHEAD = timedelta(days=30)
# Listing page sizes: at least one, at most what one response should carry.
MAX_PAGE_SIZE = 100
# Threads that DKIM-sign: cryptography releases the GIL inside an RSA signature (measured:
# two threads sign side by side even with a 5 s GIL switch interval), so signing off the
# event loop lets one process use a second core. Two: the cores this project targets; more
# would only queue for the same cores.
SIGN_THREADS = 2

RandomBytes = Callable[[int], bytes]
# The kinds of request an idempotency key is scoped to.
_SINGLE = "email"
_BATCH = "batch"


@dataclass(frozen=True)
class SendRequest:
    """One email to send, with what postillon keeps beside it."""

    email: OutgoingEmail
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    scheduled_at: datetime | None = None
    stream: Stream = DEFAULT_STREAM
    # One-click unsubscribe (RFC 8058): List-Unsubscribe + List-Unsubscribe-Post; None follows
    # the sender domain's default (applied only where it can work: one recipient).
    unsubscribe: bool | None = None


@dataclass(frozen=True)
class SendResult:
    """What the API answers: the message id and ``queued`` (or ``scheduled``, ``suppressed``
    when every recipient is on the account's suppression list)."""

    id: str
    status: str


SendResults = list[SendResult]
# The door a message came in by, as stored and shown.
SOURCE_SMTP = "smtp"


@dataclass(frozen=True)
class Submission:
    """A message as an SMTP client sent it: the data after the final dot, unstuffed, the
    RCPT addresses, the shown prefix of the API key the client authenticated with, and who
    sent it (for the Received field)."""

    data: bytes
    rcpt_to: tuple[str, ...]
    api_key_prefix: str
    trace: Trace | None = None


class SendService:
    """Accept emails for delivery, and read them back for their account."""

    def __init__(
        self,
        *,
        store: Store,
        ingest: SqlIngest,
        signers: SignerCache,
        api: ApiSettings,
        clock: Clock,
        return_path_key: TagKey,
        unsubscribe: UnsubscribeService,
        random_bytes: RandomBytes = secrets.token_bytes,
        sandbox_domain: str | None = None,
        sign_threads: int = SIGN_THREADS,
    ) -> None:
        self._signing = ThreadPoolExecutor(max_workers=sign_threads, thread_name_prefix="dkim")
        self._sandbox_domain = sandbox_domain
        # Called with the number of messages each commit accepted (the node's metrics).
        self.on_accepted: Callable[[int], object] = lambda count: None
        self._unsubscribe = unsubscribe
        self._store = store
        self._return_path_key = return_path_key
        self._ingest = ingest
        self._signers = signers
        self._api = api
        self._clock = clock
        self._random_bytes = random_bytes

    async def send(
        self,
        account: Account,
        request: SendRequest,
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
    ) -> SendResult:
        """Validate, sign and enqueue one email; returns after the commit.

        Raises InvalidMessageError (422/413), DomainNotVerifiedError (403),
        IdempotencyConflictError (409), StorageUnavailableError (temporary).
        """
        [result] = await self._send_all(
            account, [request], kind=_SINGLE, key_text=idempotency_key, fingerprint=fingerprint
        )
        return result

    async def send_batch(
        self,
        account: Account,
        requests: Sequence[SendRequest],
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
    ) -> SendResults:
        """Up to 100 emails, all or none: every one is checked before any is stored, and one
        commit stores them all. Problems name their field with the index (``[3].to[0]``)."""
        if not requests:
            raise InvalidMessageError([ValidationProblem("[]", "a batch needs at least one email")])
        if len(requests) > MAX_BATCH:
            problem = ValidationProblem("[]", f"at most {MAX_BATCH} emails per batch")
            raise InvalidMessageError([problem])
        return await self._send_all(
            account, requests, kind=_BATCH, key_text=idempotency_key, fingerprint=fingerprint
        )

    async def get(self, account: Account, email_id: str, *, with_body: bool = False) -> MessageView:
        """The account's message with per-recipient status and every attempt (and the signed
        bytes as sent, with ``with_body``).

        Raises NotFoundError for an unknown id or another account's.
        """
        view = await self._store.get_message(email_id, account_id=account.id, with_body=with_body)
        if view is None:
            raise NotFoundError(f"no email {email_id}")
        return view

    async def cancel(self, account: Account, email_id: str) -> CancelResult:
        """Cancel the account's message: its waiting recipients are never sent; the message,
        its recipients and attempts stay. Recipients being delivered right now (leased) are
        left alone and counted as in flight.

        Raises NotFoundError for an unknown id or another account's.
        """
        result = await self._store.cancel(email_id, self._clock.now(), account_id=account.id)
        if result is None:
            raise NotFoundError(f"no email {email_id}")
        return result

    async def retry_now(self, account: Account, email_id: str) -> int:
        """Make the account's message's waiting recipients due now; returns how many.

        Raises NotFoundError for an unknown id or another account's.
        """
        await self.get(account, email_id)
        return await self._store.retry_now(email_id, account_id=account.id)

    async def list(
        self, account: Account, filters: MessageFilter, limit: int, cursor: str | None
    ) -> Page:
        """The account's messages matching ``filters`` (its account_id is overridden), newest
        first. Raises InvalidMessageError for a bad cursor or limit."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidMessageError(
                [ValidationProblem("limit", f"must be between 1 and {MAX_PAGE_SIZE}")]
            )
        scoped = replace(filters, account_id=account.id)
        try:
            return await self._store.list_messages(scoped, limit=limit, cursor=cursor)
        except StorageError as exc:
            raise InvalidMessageError([ValidationProblem("cursor", str(exc))]) from exc

    def close(self) -> None:
        """Stop the signing threads (after the last request)."""
        self._signing.shutdown(wait=False, cancel_futures=True)

    async def forget_expired_keys(self) -> int:
        """Delete idempotency keys past their lifetime (housekeeping); returns how many."""
        return await self._ingest.forget_before(self._clock.now() - IDEMPOTENCY_TTL)

    async def may_send_from(self, account: Account, domain: str) -> bool:
        """Whether ``domain`` is a verified sender domain of ``account`` with an active key
        (another account's domain answers exactly like an unknown one)."""
        try:
            name = normalize_domain(domain)
        except InvalidDomainError:
            return False
        return await self._signers.signers_for(account.id, name) is not None

    async def send_submitted(self, account: Account, submission: Submission) -> SendResult:
        """A message a client composed itself (SMTP submission): kept byte for byte except
        what must change (``message.submitted``), DKIM-signed with its From domain's key and
        enqueued by the same path as the API; returns after the commit.

        Raises InvalidMessageError (naming the field), DomainNotVerifiedError,
        StorageUnavailableError (temporary).
        """
        prepared = prepare_submitted(
            submission.data,
            now=self._clock.now(),
            random_bytes=self._random_bytes,
            max_octets=self._api.max_message_bytes,
            trace=submission.trace,
        )
        domain = prepared.from_.domain
        signers = await self._signers.signers_for(account.id, domain)
        if signers is None:
            raise DomainNotVerifiedError(domain, await self._signers.hint_for(account.id, domain))
        message = NewMessage(
            account_id=account.id,
            mail_from="",  # the bounce address, set once the id exists (same transaction)
            recipients=tuple(NewRecipient(address) for address in submission.rcpt_to),
            body=await self._sign(prepared.data, signers),
            subject=prepared.subject,
            header_message_id=prepared.message_id,
            from_header=prepared.from_.addr_spec,
            source=SOURCE_SMTP,
            api_key_prefix=submission.api_key_prefix,
        )
        [result] = await self._enqueue([(domain, message)], [False], None)
        return result

    async def _sign(self, data: bytes, signers: Sequence[DkimSigner]) -> bytes:
        """``data`` with its DKIM-Signature fields, signed in the signing threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._signing, sign_message, data, signers)

    # -- the path of a request -------------------------------------------------------------

    async def _send_all(
        self,
        account: Account,
        requests: Sequence[SendRequest],
        *,
        kind: str,
        key_text: str | None,
        fingerprint: str,
    ) -> SendResults:
        key = idempotency_key(account.id, key_text, fingerprint, kind=kind, now=self._clock.now())
        if key is not None:
            # Answer a replay before any work: the first request may have been signed with a
            # key that has rotated since, or its domain may be unverified now.
            replay = await self._ingest.find_replay(key)
            if replay is not None:
                return _results(replayed(key, replay))
        in_batch = kind == _BATCH
        _check_batch_recipients(requests, in_batch)  # before any address is parsed
        prepared = [await self._prepare(account, r, in_batch, i) for i, r in enumerate(requests)]
        scheduled = [r.scheduled_at is not None for r in requests]
        return await self._enqueue(prepared, scheduled, key)

    async def _enqueue(
        self,
        prepared: Sequence[tuple[str, NewMessage]],
        scheduled: Sequence[bool],
        key: IdempotencyKey | None,
    ) -> SendResults:
        """Enqueue signed messages (each with its sender domain): the one storage path of
        every door; returns after the commit."""
        domains = [domain for domain, _ in prepared]

        def mail_from(index: int, message_id: str) -> str:
            return tagged_bounce_address(domains[index], message_id, self._return_path_key)

        def respond(results: Sequence[EnqueueResult]) -> dict[str, Any]:
            return _response(zip(results, scheduled, strict=True))

        outcome = await self._ingest.enqueue(
            [message for _, message in prepared],
            mail_from=mail_from,
            idempotency=key,
            respond=respond,
        )
        if outcome.replay is not None and key is not None:
            return _results(replayed(key, outcome.replay))
        self.on_accepted(len(prepared))
        return _results(outcome.response)

    async def _prepare(
        self, account: Account, request: SendRequest, in_batch: bool, index: int
    ) -> tuple[str, NewMessage]:
        """The sender domain and the signed message, ready to store."""
        try:
            self._check_recipient_count(request.email)  # before parsing any address
            email = validate(request.email, max_message_bytes=self._api.max_message_bytes)
            self._check_schedule(request.scheduled_at)
        except InvalidMessageError as exc:
            raise _in_batch(exc, in_batch, index) from exc
        domain = email.from_.domain
        signers = await self._signers.signers_for(account.id, domain)
        if signers is None and self._only_to_sandbox(
            a.domain for a in (*email.to, *email.cc, *email.bcc)
        ):
            signers = await self._signers.unverified_signers_for(account.id, domain)
        if signers is None:
            raise DomainNotVerifiedError(domain, await self._signers.hint_for(account.id, domain))
        public_url = self._api.public_url
        problem = unsubscribe_problem(email, public_url)
        wanted = request.unsubscribe
        if wanted is None:  # the domain's default, where one-click can work
            wanted = problem is None and self._signers.unsubscribe_default(account.id, domain)
        more_headers = None
        if wanted:
            if problem is not None:
                raise _in_batch(InvalidMessageError([problem]), in_batch, index)
            assert public_url is not None
            more_headers = self._unsubscribe.header_maker(account.id, email, public_url)
        try:
            composed: ComposedMessage = compose(
                email,
                message_id_domain=domain,
                clock=self._clock,
                max_message_bytes=self._api.max_message_bytes,
                random_bytes=self._random_bytes,
                more_headers=more_headers,
            )
        except InvalidMessageError as exc:
            raise _in_batch(exc, in_batch, index) from exc
        body = await self._sign(composed.data, signers)
        message = NewMessage(
            account_id=account.id,
            mail_from="",  # set to the bounce address once the id exists (same transaction)
            recipients=tuple(NewRecipient(address) for address in composed.rcpt_to),
            body=body,
            subject=email.subject,
            header_message_id=composed.message_id,
            from_header=email.from_.addr_spec,
            tags=request.tags,
            metadata=dict(request.metadata),
            scheduled_at=request.scheduled_at,
            stream=request.stream,
        )
        return domain, message

    def _only_to_sandbox(self, domains: Iterable[str]) -> bool:
        """True when every recipient domain is the simulator domain (nothing leaves)."""
        sandbox = self._sandbox_domain
        listed = [domain.rstrip(".").lower() for domain in domains]
        return bool(sandbox and listed) and all(domain == sandbox for domain in listed)

    def _check_recipient_count(self, email: OutgoingEmail) -> None:
        cap = self._api.max_recipients_per_message
        count = 0
        for where, mailboxes in (("to", email.to), ("cc", email.cc), ("bcc", email.bcc)):
            for index in range(len(mailboxes)):
                count += 1
                if count > cap:
                    raise InvalidMessageError(
                        [
                            ValidationProblem(
                                f"{where}[{index}]",
                                f"a message may have at most {cap} recipients (to, cc and bcc"
                                " together); send more as a batch",
                            )
                        ]
                    )

    def _check_schedule(self, scheduled_at: datetime | None) -> None:
        if scheduled_at is not None and scheduled_at > self._clock.now() + MAX_SCHEDULE_AHEAD:
            days = MAX_SCHEDULE_AHEAD.days
            raise InvalidMessageError(
                [ValidationProblem("scheduled_at", f"may be at most {days} days ahead")]
            )


def _check_batch_recipients(requests: Sequence[SendRequest], in_batch: bool) -> None:
    """Refuse a batch whose messages together have more than :data:`MAX_BATCH_RECIPIENTS`
    recipients, naming the first one over (``[i].bcc[j]``)."""
    count = 0
    for index, request in enumerate(requests):
        email = request.email
        for where, mailboxes in (("to", email.to), ("cc", email.cc), ("bcc", email.bcc)):
            count += len(mailboxes)
            if count > MAX_BATCH_RECIPIENTS:
                over = len(mailboxes) - (count - MAX_BATCH_RECIPIENTS)
                raise InvalidMessageError(
                    [
                        ValidationProblem(
                            f"[{index}].{where}[{over}]" if in_batch else f"{where}[{over}]",
                            f"a request may carry at most {MAX_BATCH_RECIPIENTS} recipients in all",
                        )
                    ]
                )


def _in_batch(error: InvalidMessageError, in_batch: bool, index: int) -> InvalidMessageError:
    if not in_batch:
        return error
    return InvalidMessageError(
        ValidationProblem(f"[{index}].{p.field}", p.message, p.kind) for p in error.problems
    )


def _status(result: EnqueueResult, scheduled: bool) -> str:
    if all(r.status is RecipientStatus.SUPPRESSED for r in result.recipients):
        return "suppressed"
    return "scheduled" if scheduled else "queued"


def _response(results: Iterable[tuple[EnqueueResult, bool]]) -> dict[str, Any]:
    """What the idempotency table keeps: the answer, in order."""
    return {"results": [{"id": r.message_id, "status": _status(r, s)} for r, s in results]}


def _results(response: Mapping[str, Any]) -> SendResults:
    return [
        SendResult(id=str(item["id"]), status=str(item["status"])) for item in response["results"]
    ]
