"""What the submission door accepts, connection by connection.

Owns the decisions the SMTP server core asks for: AUTH (PLAIN/LOGIN, offered only over TLS by
the core) with an API key as the password and any user name; failed attempts throttled per
client address; the key checked again at every MAIL so a revoked key stops at once; the
envelope sender's domain a verified domain of the key's account (550 5.7.1 otherwise, the
same words for another account's domain as for an unknown one); the per-key rate limit the
API charges (450 4.7.0); and, after the final dot, the send service (the From domain checked,
DKIM-signed, stored) answering 250 only after the commit. Credentials are never logged.
Must not store anything itself or speak SMTP bytes.
"""

from __future__ import annotations

import math

import structlog

from postillon.message.address import make_address
from postillon.message.errors import AddressError, InvalidMessageError
from postillon.message.submitted import Trace
from postillon.services.errors import DomainNotVerifiedError
from postillon.services.keys import ApiKeyService, AuthenticatedKey, key_digest
from postillon.services.rate_limit import RateLimiter
from postillon.services.sending import SendService, Submission
from postillon.smtp import server_reply as replies
from postillon.smtp.sasl import Credentials
from postillon.smtp.server_events import Hello, MailFrom, MessageData, RcptTo
from postillon.smtp.server_reply import ServerReply, reply
from postillon.submission.auth_throttle import AuthThrottle
from postillon.transport.server_handler import ConnectionHandler, PeerInfo

log = structlog.get_logger("postillon.submission")

AUTH_THROTTLED = reply(454, "4.7.0", "too many failed authentications, try again later")
SENDER_REFUSED = reply(
    550, "5.7.1", "sender address rejected: not a verified sender domain of this account"
)
NULL_SENDER = reply(550, "5.7.1", "a null sender cannot submit mail")
KEY_REVOKED = reply(535, "5.7.8", "API key no longer valid")


class SubmissionDoor:
    """The door: one :class:`SubmissionConnection` per client connection."""

    def __init__(
        self,
        *,
        keys: ApiKeyService,
        sending: SendService,
        limiter: RateLimiter,
        throttle: AuthThrottle,
        hostname: str,
    ) -> None:
        self.hostname = hostname
        self.keys = keys
        self.sending = sending
        self.limiter = limiter
        self.throttle = throttle

    def connection(self, peer: PeerInfo) -> ConnectionHandler:
        """The handler of a new connection from ``peer``."""
        return SubmissionConnection(self, peer)


class SubmissionConnection:
    """Decisions for one connection; remembers which key authenticated (never the reply)."""

    def __init__(self, door: SubmissionDoor, peer: PeerInfo) -> None:
        self._door = door
        self._peer = peer
        self._token: str | None = None
        self._key: AuthenticatedKey | None = None
        self._helo = ""

    async def hello(self, event: Hello) -> ServerReply | None:
        """Any name is fine: the client is identified by its key, not its EHLO (the name
        goes into the Received field)."""
        self._helo = event.name
        return None

    async def authenticate(self, credentials: Credentials) -> ServerReply | None:
        """The password is an API key; the user name is free text."""
        address = self._peer.address
        if self._door.throttle.is_blocked(address):
            return AUTH_THROTTLED
        key = await self._door.keys.authenticate_key(credentials.password)
        if key is None:
            self._door.throttle.failed(address)
            log.info("submission.auth_failed", peer=address, mechanism=credentials.mechanism)
            return replies.AUTH_FAILED
        self._token, self._key = credentials.password, key
        log.info("submission.auth", peer=address, key=key.prefix, account=key.account.id)
        return None

    async def mail_from(self, event: MailFrom) -> ServerReply | None:
        """The key must still be valid, within its rate, and own the sender's domain."""
        if self._token is None:
            return replies.NEED_AUTH  # the core never asks without AUTH; belt and braces
        key = await self._door.keys.authenticate_key(self._token)
        if key is None:
            self._token = self._key = None
            return KEY_REVOKED
        self._key = key
        decision = self._door.limiter.take(key_digest(self._token))
        if not decision.allowed:
            wait_s = max(1, math.ceil(decision.retry_after_s))
            return reply(450, "4.7.0", f"rate limit exceeded, try again in {wait_s} s")
        if not event.path.address:
            return NULL_SENDER
        if not await self._door.sending.may_send_from(key.account, event.path.domain):
            return SENDER_REFUSED
        return None

    async def rcpt_to(self, event: RcptTo) -> ServerReply | None:
        """Any valid mailbox: an authenticated client may send anywhere (not a relay: only
        its own verified domains can be the sender)."""
        try:
            make_address(event.path.address, None)
        except AddressError as error:
            return reply(501, "5.1.3", f"bad recipient address: {error}")
        return None

    async def message(self, event: MessageData) -> ServerReply | None:
        """Hand the message to the send service; 250 only once it is committed."""
        key = self._key
        if key is None:
            return replies.NEED_AUTH
        submission = Submission(
            data=event.data,
            rcpt_to=tuple(path.address for path in event.envelope.rcpt_tos),
            api_key_prefix=key.prefix,
            trace=self._trace(),
        )
        try:
            result = await self._door.sending.send_submitted(key.account, submission)
        except InvalidMessageError as error:
            if error.is_too_large:
                return replies.TOO_BIG
            return reply(550, "5.6.0", _one_line(str(error)))
        except DomainNotVerifiedError as error:
            return reply(550, "5.7.1", f"From domain {error.domain} is not verified: {error.hint}")
        except Exception as error:
            if getattr(error, "is_transient", True):
                log.warning("submission.store_failed", peer=self._peer.address, error=str(error))
                return replies.SERVER_ERROR
            raise
        return reply(250, "2.0.0", f"OK queued as {result.id}")

    def _trace(self) -> Trace:
        tls = self._peer.tls
        used = f"{tls.version} with cipher {tls.cipher}" if tls is not None and tls.used else None
        return Trace(self._helo, self._peer.address, self._door.hostname, used)

    def tls_started(self) -> None:
        """STARTTLS resets the session: forget the key."""
        self._token = self._key = None


def _one_line(text: str) -> str:
    # A reply line must not carry CR/LF; keep it to a readable length.
    return " ".join(text.split())[:400]
