"""One SMTP client connection over asyncio: connect, greet, STARTTLS, transactions, reuse, QUIT.

Owns the I/O around the sans-I/O :class:`postillon.smtp.session.ClientSession`: the TCP
connection (connect timeout, optional source address), one timeout per phase from
:class:`postillon.config.settings.SmtpTimeouts` (a total per awaited reply, so a peer that drips
a byte at a time still times out), the STARTTLS handshake in the connection's :class:`TlsMode`,
the streamed DATA body, and the session transcript (commands and replies, never bodies).
Everything raises only postillon.errors types. Must not choose MX hosts, pool connections or
classify replies.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from postillon.clock import Clock, SystemClock
from postillon.config.settings import SmtpTimeouts
from postillon.errors import ConnectError, PostillonError, TimeoutPhaseError
from postillon.smtp.data import encode_chunks
from postillon.smtp.errors import SessionStateError
from postillon.smtp.events import (
    Action,
    Phase,
    ReceiveMore,
    Send,
    SendBody,
    StartTls,
    TransactionDone,
)
from postillon.smtp.extensions import Extensions
from postillon.smtp.reply import MAX_BUFFER_OCTETS
from postillon.smtp.session import ClientSession, State
from postillon.smtp.transaction import Envelope, TransactionResult
from postillon.smtp.transcript import Direction, Transcript
from postillon.transport.errors import (
    ConnectionLostError,
    ConnectTimeoutError,
    TlsHandshakeError,
    TlsRequiredError,
)
from postillon.transport.starttls import upgrade
from postillon.transport.stream import BoundedStreamProtocol
from postillon.transport.tls import Authenticator, TlsInfo, TlsMode

# Entries of earlier transactions a pooled connection keeps before forgetting them (well
# under the transcript's hard cap, so the current transaction is always recorded).
TRANSCRIPT_KEEP_ENTRIES = 200

# Unread bytes held before reading pauses: the reply parser's own bound, so the socket side
# never holds more than the parser could accept.
STREAM_BUFFER_OCTETS = MAX_BUFFER_OCTETS
# How long close() waits for the transport to finish closing after QUIT.
CLOSE_WAIT_S = 1.0


@dataclass(frozen=True)
class _Dial:
    """Where and how to connect; the same for a plaintext retry."""

    host: str
    port: int
    helo_name: str
    timeouts: SmtpTimeouts
    source_address: str | None
    ca_file: Path | None
    server_name: str
    clock: Clock
    authenticator: Authenticator | None = None


class SmtpConnection:
    """An open, greeted SMTP session with a server. Build it with :meth:`open`."""

    def __init__(
        self,
        dial: _Dial,
        tls_mode: TlsMode,
        session: ClientSession,
        protocol: BoundedStreamProtocol,
    ) -> None:
        self.host = dial.host
        self.port = dial.port
        self.server_name = dial.server_name
        self.tls_mode = tls_mode
        self.tls = TlsInfo(used=False, reason="not offered")
        self._session = session
        self._protocol = protocol
        self._timeouts = dial.timeouts
        self._ca_file = dial.ca_file
        self._clock = dial.clock
        self._authenticator = dial.authenticator
        self._message: bytes | None = None
        self._failed = False
        self._closed = False
        self._lost_final_reply = False
        self._setup_entries: int | None = None  # transcript entries before the first transaction
        self._txn_mark = 0
        self._deadline_key: tuple[Phase, int] | None = None
        self._deadline = 0.0

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        host: str,
        port: int = 25,
        *,
        helo_name: str,
        tls_mode: TlsMode = TlsMode.OPPORTUNISTIC,
        timeouts: SmtpTimeouts | None = None,
        source_address: str | None = None,
        ca_file: Path | None = None,
        server_name: str | None = None,
        plaintext_fallback: bool = True,
        clock: Clock | None = None,
        authenticator: Authenticator | None = None,
    ) -> SmtpConnection:
        """Connect to ``host:port``, read the greeting, EHLO, STARTTLS when offered, EHLO again.

        ``server_name`` is the MX host name certificates are checked against (default ``host``).
        In OPPORTUNISTIC mode a failed handshake is retried on a fresh plaintext connection
        when ``plaintext_fallback`` (``tls.reason`` says why); VERIFIED never sends plaintext
        mail (TlsRequiredError, TlsHandshakeError); neither does DANE, whose ``authenticator``
        judges the chain (DaneAuthenticationError; None: TLS required, any certificate).
        Raises ConnectError (or its timeout), a refused session (SessionRefusedError,
        ServiceClosingError), ProtocolError or TimeoutPhaseError: all temporary.
        """
        dial = _Dial(
            host=host,
            port=port,
            helo_name=helo_name,
            timeouts=timeouts or SmtpTimeouts(),
            source_address=source_address,
            ca_file=ca_file,
            server_name=server_name or host,
            clock=clock or SystemClock(),
            authenticator=authenticator,
        )
        try:
            return await cls._open_once(dial, tls_mode)
        except TlsHandshakeError as error:
            if tls_mode is not TlsMode.OPPORTUNISTIC or not plaintext_fallback:
                raise
            conn = await cls._open_once(dial, TlsMode.DISABLED)
            conn.tls = TlsInfo(used=False, reason=f"{error}; retried without TLS")
            conn._note(f"previous attempt: {error}; this connection is plaintext")
            return conn

    @classmethod
    async def _open_once(cls, dial: _Dial, tls_mode: TlsMode) -> Self:
        host, port, timeouts, source_address = (
            dial.host,
            dial.port,
            dial.timeouts,
            dial.source_address,
        )
        session = ClientSession(dial.helo_name, use_starttls=tls_mode is not TlsMode.DISABLED)
        loop = asyncio.get_running_loop()
        local = (source_address, 0) if source_address else None
        try:
            async with asyncio.timeout(timeouts.connect_s):
                _, protocol = await loop.create_connection(
                    lambda: BoundedStreamProtocol(STREAM_BUFFER_OCTETS),
                    host,
                    port,
                    local_addr=local,
                )
        except TimeoutError:
            raise ConnectTimeoutError("connect", timeouts.connect_s) from None
        except OSError as error:
            raise ConnectError(f"cannot connect to {host}:{port}: {error}") from error
        conn = cls(dial, tls_mode, session, protocol)
        conn._note(f"connected to {host}:{port}" + (f" from {source_address}" if local else ""))
        try:
            await conn._drive()
            if tls_mode in (TlsMode.VERIFIED, TlsMode.DANE) and not conn.tls.used:
                reply = session.starttls_reply
                why = f"STARTTLS refused: {reply}" if reply else "STARTTLS not offered"
                need = (
                    "DANE TLSA records require TLS"
                    if tls_mode is TlsMode.DANE
                    else ("verified TLS is required")
                )
                raise TlsRequiredError(f"{host}: {why}; {need}")
        except PostillonError:
            await conn.close()  # QUIT if the session is still sound (TlsRequiredError)
            raise
        except BaseException:
            conn._fail()  # cancelled: no more awaiting, just drop the connection
            raise
        return conn

    # -- the public API ----------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        """Every command and reply of this session (bodies as octet counts), for the log."""
        return self._session.transcript

    @property
    def extensions(self) -> Extensions:
        """What the server announced in its (last) EHLO reply; empty after HELO."""
        return self._session.extensions or Extensions()

    @property
    def is_usable(self) -> bool:
        """Whether a transaction may be sent now: open, idle, and the peer has not hung up
        or spoken out of turn (a 421 sent while idle)."""
        return (
            not self._failed
            and not self._closed
            and self._session.is_ready
            and not self._protocol.is_closed
            and self._protocol.buffered_octets == 0
            and self._session.buffered_octets == 0
        )

    @property
    def awaiting_final_reply(self) -> bool:
        """True when the body of the last transaction went out and the reply to its final dot
        never came (the session failed waiting for it): the message may have been delivered,
        so a retry is a possible duplicate (docs/contracts.md, "Final dot")."""
        return self._lost_final_reply or self._session.is_awaiting_final_reply

    def transcript_text(self) -> str:
        """The session setup and the current (or last) transaction, for the attempt log."""
        transcript = self._session.transcript
        head = self._setup_entries if self._setup_entries is not None else len(transcript)
        return transcript.render_parts(head, max(self._txn_mark, head))

    @property
    def peak_buffered_octets(self) -> int:
        """The most unread bytes ever held at once (for tests and memory checks)."""
        return self._protocol.peak_buffered_octets

    async def send_transaction(
        self, mail_from: str, rcpt_tos: tuple[str, ...] | list[str], message: bytes
    ) -> TransactionResult:
        """Send one message to ``rcpt_tos``; the replies per recipient are in the result.

        Raises UnsupportedMessageError or InvalidArgumentError (permanent; nothing sent, the
        connection stays usable), or a temporary error when the session fails midway (the
        connection is then closed and unusable).
        """
        self._check_usable()
        self._lost_final_reply = False
        self._mark_transaction()
        envelope = Envelope.for_message(mail_from, tuple(rcpt_tos), message)
        self._session.begin_transaction(envelope)
        self._message = message
        try:
            action = await self._drive()
        finally:
            self._message = None
        if not isinstance(action, TransactionDone):
            raise SessionStateError(f"transaction ended with {action}")
        return action.result

    async def reset(self) -> None:
        """RSET before reusing the connection; raises a temporary error if the peer is gone."""
        self._check_usable()
        self._session.reset()
        await self._drive()

    async def close(self) -> None:
        """QUIT (if the session is still sound) and close. Never raises."""
        if self._closed:
            return
        if not self._failed and not self._protocol.is_closed and self._session.is_ready:
            with contextlib.suppress(PostillonError):
                self._session.quit()
                await self._drive()
        self._closed = True
        self._session.abort()
        transport = self._protocol.transport
        if transport is not None and not self._protocol.lost:
            transport.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_WAIT_S):
                    await self._protocol.wait_lost()

    # -- the driver loop ---------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self.is_usable:
            return
        if self._failed or self._closed:
            raise ConnectionLostError("the connection is closed or failed")
        if self._protocol.is_closed:
            why = "the server closed the connection while it was idle"
        elif self._protocol.buffered_octets or self._session.buffered_octets:
            why = "the server sent data while the connection was idle"
        elif self._session.state is State.READY:
            why = "the server refused RSET: its session state is unknown"
        else:
            # Another task is using it (a caller bug); that task keeps the connection.
            raise SessionStateError("the connection is busy with another command")
        self._note(why)
        self._fail()
        raise ConnectionLostError(why)

    async def _drive(self) -> Action:
        """Do what the session asks until it is idle, done with a transaction, or closed."""
        try:
            while True:
                action = self._session.next_action()
                if isinstance(action, Send):
                    await self._write(action.data, action.phase)
                elif isinstance(action, ReceiveMore):
                    await self._receive(action)
                elif isinstance(action, StartTls):
                    await self._start_tls()
                elif isinstance(action, SendBody):
                    await self._send_body()
                else:
                    return action
        except PostillonError:
            self._fail()
            raise
        except OSError as error:
            self._fail()
            raise ConnectionLostError(f"connection failed: {error}") from error

    def _mark_transaction(self) -> None:
        transcript = self._session.transcript
        if self._setup_entries is None:
            self._setup_entries = len(transcript)
        elif len(transcript) - self._setup_entries > TRANSCRIPT_KEEP_ENTRIES:
            # A long-lived pooled connection: forget earlier transactions, keep the setup.
            transcript.forget(self._setup_entries, len(transcript))
        self._txn_mark = len(transcript)

    def _fail(self) -> None:
        self._lost_final_reply = self._session.is_awaiting_final_reply
        self._failed = True
        self._session.abort()
        if self._protocol.transport is not None:
            self._protocol.transport.abort()

    def _timeout(self, phase: Phase) -> float:
        timeout: float = getattr(self._timeouts, f"{phase.value}_s")
        return timeout

    def _note(self, text: str) -> None:
        self._session.transcript.add(Direction.NOTE, text)

    async def _write(self, data: bytes, phase: Phase) -> None:
        timeout = self._timeout(phase)
        try:
            async with asyncio.timeout(timeout):
                await self._protocol.write(data)
        except TimeoutError:
            raise TimeoutPhaseError(f"{phase.value} (sending)", timeout) from None

    async def _receive(self, action: ReceiveMore) -> None:
        # One deadline per awaited reply: a peer dripping a byte at a time still runs out.
        loop = asyncio.get_running_loop()
        timeout = self._timeout(action.phase)
        key = (action.phase, self._session.replies_received)
        if key != self._deadline_key:
            self._deadline_key = key
            self._deadline = loop.time() + timeout
        try:
            async with asyncio.timeout_at(self._deadline):
                data = await self._protocol.read(action.max_octets)
        except TimeoutError:
            raise TimeoutPhaseError(f"the {action.phase.value} reply", timeout) from None
        if not data:
            why = self._protocol.lost_reason or "closed"
            raise ConnectionLostError(
                f"connection {why} while waiting for the {action.phase.value} reply"
            )
        self._session.receive_data(data)

    async def _send_body(self) -> None:
        assert self._message is not None
        octets = 0
        for chunk in encode_chunks(self._message):
            await self._write(chunk, Phase.DATA_BLOCK)
            octets += len(chunk)
        self._session.body_sent(octets)

    async def _start_tls(self) -> None:
        self.tls, dropped = await upgrade(
            self._protocol,
            mode=self.tls_mode,
            server_name=self.server_name,
            ca_file=self._ca_file,
            timeout_s=self._timeouts.starttls_s,
            now=self._clock.now(),
            authenticator=self._authenticator,
        )
        if dropped:
            self._note(f"discarded {dropped} octets received before the TLS handshake")
        self._note(f"TLS: {self.tls}")
        self._session.tls_established()
