"""A real SMTP receiver (aiosmtpd) on a loopback address, for integration tests.

Owns: listening on ``host:port`` in the test's event loop, recording every accepted message with
its envelope, the DATA bytes exactly as received (after dot-unstuffing, CRLF kept) and the TLS
version, and refusing RCPT or DATA when a test's handler says so. It must not bind anything but
the address the test gives it, and it never relays mail anywhere.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiosmtpd.smtp import SMTP, Envelope, Session

# The largest message we take: big enough for any test message, small enough to bound memory
# (the SIZE value announced in EHLO, RFC 1870).
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
# Idle time after which aiosmtpd drops a silent client: longer than any test waits.
IDLE_TIMEOUT_S = 60.0
# Extensions aiosmtpd implements but does not announce itself (RFC 2920, RFC 2034).
EXTRA_EHLO_KEYWORDS = ("PIPELINING", "ENHANCEDSTATUSCODES")
# The SMTP greeting text after the hostname.
BANNER_IDENT = "ESMTP postillon test receiver"

RcptHandler = Callable[[str], str | None]
DataHandler = Callable[["ReceivedMessage"], str | None]


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the receiver saw it.

    ``data`` is the DATA payload after dot-unstuffing, with its line ends as sent; ``tls_version``
    is e.g. ``"TLSv1.3"`` when the session ran STARTTLS, else None; ``peer`` is the client's IP.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    tls_version: str | None
    peer: str


class _Handler:
    """aiosmtpd hooks: EHLO keywords, RCPT and DATA decisions, recording."""

    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        # aiosmtpd offers AUTH after STARTTLS; a receiving MX does not, so hide it.
        kept = [r for r in responses[:-1] if not r[4:].upper().startswith("AUTH")]
        kept += [f"250-{keyword}" for keyword in EXTRA_EHLO_KEYWORDS]
        return [*kept, responses[-1]]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        handler = self._receiver.rcpt_handler
        refusal = handler(address) if handler is not None else None
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        ssl_object = (session.ssl or {}).get("ssl_object")
        peer: Any = session.peer
        message = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=bytes(envelope.original_content or b""),
            tls_version=ssl_object.version() if ssl_object is not None else None,
            peer=str(peer[0]) if isinstance(peer, tuple) else str(peer),
        )
        handler = self._receiver.data_handler
        refusal = handler(message) if handler is not None else None
        if refusal is not None:
            self._receiver.refused.append(message)
            return refusal
        await self._receiver._record(message)
        return "250 2.0.0 OK queued"


class Receiver:
    """An aiosmtpd SMTP server on ``host:port`` in the running event loop.

    Use ``async with Receiver("127.0.0.41") as rx:`` or ``await rx.start()`` / ``await
    rx.stop()``. A handler returns a full reply line (``"550 5.1.1 no such user"``) to refuse,
    or None to accept. ``messages`` holds accepted messages, ``refused`` the ones the data
    handler refused; ``connections`` counts TCP sessions accepted. STARTTLS is offered when
    ``tls_context`` is given (see ``TestPki.server_context``); ``require_starttls`` makes the
    server refuse mail until the client has run it.
    """

    def __init__(
        self,
        host: str,
        *,
        port: int = 25,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        hostname: str = "mx.test",
        rcpt_handler: RcptHandler | None = None,
        data_handler: DataHandler | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.hostname = hostname
        self.rcpt_handler = rcpt_handler
        self.data_handler = data_handler
        self.messages: list[ReceivedMessage] = []
        self.refused: list[ReceivedMessage] = []
        self.connections = 0
        self._handler = _Handler(self)
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []
        self._arrived = asyncio.Condition()

    def _make_session(self) -> SMTP:
        self.connections += 1
        session = SMTP(
            self._handler,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident=BANNER_IDENT,
            tls_context=self.tls_context,
            require_starttls=self.require_starttls,
            timeout=IDLE_TIMEOUT_S,
        )
        self._sessions.append(session)
        return session

    async def _record(self, message: ReceivedMessage) -> None:
        async with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    async def start(self) -> None:
        """Listen on ``host:port``; returns once the socket is bound."""
        if self._server is not None:
            raise RuntimeError("receiver already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._make_session, host=self.host, port=self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Stop listening and close every open session."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for session in self._sessions:
            if session.transport is not None:
                session.transport.close()
        await server.wait_closed()
        # Let the sessions' handler tasks see the close and finish.
        await asyncio.sleep(0)

    async def wait_for(self, count: int, timeout_s: float = 10) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages were accepted; return them all.

        Raises TimeoutError (naming how many arrived) if they do not arrive in ``timeout_s``.
        """
        try:
            async with asyncio.timeout(timeout_s), self._arrived:
                await self._arrived.wait_for(lambda: len(self.messages) >= count)
        except TimeoutError:
            raise TimeoutError(
                f"{self.host}:{self.port} got {len(self.messages)} of {count} messages "
                f"in {timeout_s} s"
            ) from None
        return list(self.messages)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
