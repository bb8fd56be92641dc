"""Driving one server session over one connection: read, decide, answer, TLS, time limits.

Owns the loop between a :class:`BoundedStreamProtocol` and a sans-I/O
:class:`postillon.smtp.server_session.ServerSession`: it writes queued replies whenever no
complete command is left to read (RFC 2920 §3.1), hands decision events to the door's
:class:`ConnectionHandler`, runs the TLS handshake (implicit, or after STARTTLS having
dropped every buffered byte, CVE-2011-0411), and ends the session with 421 on an idle or
total timeout. A handler that raises gets 451 4.3.0 for that command, never a crash.
Must not decide what a door accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass

import structlog

from postillon.smtp import server_reply as replies
from postillon.smtp.server_events import (
    Authenticate,
    Close,
    Decision,
    Hello,
    MailFrom,
    MessageData,
    NeedData,
    RcptTo,
    StartTls,
)
from postillon.smtp.server_reply import ServerReply
from postillon.smtp.server_session import ServerSession
from postillon.transport.errors import ConnectionLostError
from postillon.transport.server_handler import ConnectionHandler, PeerInfo
from postillon.transport.stream import BoundedStreamProtocol
from postillon.transport.tls import TlsInfo

log = structlog.get_logger("postillon.smtp_server")

# How long a shutting-down session may take to say 421 to a client that does not read.
GOODBYE_S = 1.0
# One socket read: large enough for a pipelined group or a body chunk, small enough to parse.
READ_OCTETS = 64 * 1024


@dataclass(frozen=True)
class SessionTimeouts:
    """How long a client may stay silent, and stay at all (RFC 5321 §4.5.3.2.7: a server
    should wait at least 5 minutes for a command; submission clients are faster)."""

    idle_s: float = 300.0
    total_s: float = 1800.0
    tls_handshake_s: float = 30.0


@dataclass
class Activity:
    """What a session is doing, for a listener that is shutting down: ``deciding`` while a
    door decides (a commit may be running), when the session must not be cut."""

    deciding: bool = False


class TlsFailedError(Exception):
    """The handshake failed; the connection is dropped."""


async def run_session(
    protocol: BoundedStreamProtocol,
    session: ServerSession,
    handler: ConnectionHandler,
    peer: PeerInfo,
    *,
    timeouts: SessionTimeouts,
    tls_context: ssl.SSLContext | None,
    implicit_tls: bool,
    activity: Activity | None = None,
) -> None:
    """Serve one connection until QUIT, 421, EOF, a timeout or a failed handshake. Cancelled
    (shutdown), it answers 421 4.3.2 first."""
    activity = activity or Activity()
    try:
        async with asyncio.timeout(timeouts.total_s):
            if implicit_tls:
                assert tls_context is not None
                await _handshake(protocol, tls_context, peer, timeouts.tls_handshake_s)
            connection = _Connection(protocol, session, handler, peer, timeouts, tls_context)
            await _loop(connection, activity)
    except TimeoutError:
        session.close(replies.TIMEOUT)
        await _flush(protocol, session)
    except asyncio.CancelledError:
        session.close(replies.SHUTTING_DOWN)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(GOODBYE_S):
                await _flush(protocol, session)
        raise
    except (TlsFailedError, ConnectionLostError):
        pass
    except Exception:  # a bug must cost this session only, and be seen
        log.exception("smtp session failed", peer=peer.address)
    finally:
        if protocol.transport is not None:
            protocol.transport.close()


@dataclass(frozen=True)
class _Connection:
    protocol: BoundedStreamProtocol
    session: ServerSession
    handler: ConnectionHandler
    peer: PeerInfo
    timeouts: SessionTimeouts
    tls_context: ssl.SSLContext | None


async def _loop(conn: _Connection, activity: Activity) -> None:
    protocol, session, handler, peer = conn.protocol, conn.session, conn.handler, conn.peer
    timeouts, tls_context = conn.timeouts, conn.tls_context
    while True:
        event = session.next_event()
        if isinstance(event, NeedData):
            await _flush(protocol, session)
            async with asyncio.timeout(timeouts.idle_s):
                data = await protocol.read(READ_OCTETS)
            if not data:
                return
            session.receive_data(data)
        elif isinstance(event, Close):
            await _flush(protocol, session)
            return
        elif isinstance(event, StartTls):
            await _flush(protocol, session)
            protocol.discard()  # CVE-2011-0411: plaintext sent before the handshake is dropped
            assert tls_context is not None
            await _handshake(protocol, tls_context, peer, timeouts.tls_handshake_s)
            session.tls_established()
            handler.tls_started()
        else:
            if isinstance(event, MessageData):
                await _flush(protocol, session)  # earlier replies need not wait for the commit
            activity.deciding = True
            try:
                answer = await _decide(handler, event, peer)
            finally:
                activity.deciding = False
            session.respond(answer)


async def _decide(
    handler: ConnectionHandler, event: Decision, peer: PeerInfo
) -> ServerReply | None:
    try:
        if isinstance(event, Hello):
            return await handler.hello(event)
        if isinstance(event, Authenticate):
            return await handler.authenticate(event.credentials)
        if isinstance(event, MailFrom):
            return await handler.mail_from(event)
        if isinstance(event, RcptTo):
            return await handler.rcpt_to(event)
        return await handler.message(event)
    except Exception:  # a door's bug must cost one command, not the session
        log.exception("smtp handler failed", peer=peer.address, decision=type(event).__name__)
        return replies.SERVER_ERROR


async def _flush(protocol: BoundedStreamProtocol, session: ServerSession) -> None:
    data = session.data_to_send()
    if data and not protocol.is_closed:
        await protocol.write(data)


async def _handshake(
    protocol: BoundedStreamProtocol, context: ssl.SSLContext, peer: PeerInfo, timeout_s: float
) -> None:
    transport = protocol.transport
    if transport is None or transport.is_closing():
        raise TlsFailedError("connection closed")
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            tls_transport = await loop.start_tls(
                transport, protocol, context, server_side=True, ssl_handshake_timeout=timeout_s
            )
    except (TimeoutError, ssl.SSLError, OSError, ConnectionError) as error:
        log.info("smtp tls handshake failed", peer=peer.address, error=str(error) or "timeout")
        raise TlsFailedError(str(error)) from error
    if tls_transport is None:
        raise TlsFailedError("connection closed")
    protocol.switch_transport(tls_transport)
    ssl_object = tls_transport.get_extra_info("ssl_object")
    cipher = ssl_object.cipher() if ssl_object is not None else None
    peer.tls = TlsInfo(
        used=True,
        version=ssl_object.version() if ssl_object is not None else None,
        cipher=cipher[0] if cipher else None,
    )
