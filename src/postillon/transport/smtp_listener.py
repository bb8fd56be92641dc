"""The SMTP listener: bound sockets, connection limits, one session task per client.

Owns accepting connections on each address (plain with optional STARTTLS, or implicit TLS,
RFC 8314 §3.3), refusing a client past ``max_per_address`` concurrent connections (or the
listener past ``max_connections``) with 421 4.7.0, tracking every session task, closing them on
``close()``, and the TLS context that ``reload_tls()`` swaps (SIGHUP). Speaks SMTP only through
``server_connection.run_session``; must not decide what a door accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field

import structlog

from postillon.smtp import server_reply as replies
from postillon.smtp.server_session import ServerConfig, ServerSession
from postillon.transport.server_connection import Activity, SessionTimeouts, run_session
from postillon.transport.server_handler import PeerInfo, SmtpHandler
from postillon.transport.server_tls import ServerTls
from postillon.transport.stream import BoundedStreamProtocol

log = structlog.get_logger("postillon.smtp_server")

# Unread bytes held per connection before reading pauses: a pipelined group or a 64 KiB body
# chunk fits; a flooding client costs at most this plus one socket read.
MAX_BUFFER_OCTETS = 256 * 1024
# Concurrent connections: per client address (one host rarely needs more; Postfix's
# smtpd_client_connection_count_limit is 50) and for the whole listener (file descriptors).
DEFAULT_MAX_PER_ADDRESS = 20
DEFAULT_MAX_CONNECTIONS = 1000
# How often close() looks again for sessions that finished their decision.
CLOSE_POLL_S = 0.05


@dataclass(frozen=True)
class ListenerConfig:
    """Where and how one listener serves."""

    addresses: tuple[tuple[str, int], ...]
    session: ServerConfig
    implicit_tls: bool = False
    timeouts: SessionTimeouts = field(default_factory=SessionTimeouts)
    max_per_address: int = DEFAULT_MAX_PER_ADDRESS
    max_connections: int = DEFAULT_MAX_CONNECTIONS


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:587"`` or ``"[::1]:587"`` as (host, port). Raises ValueError."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {text!r}")
    return host.strip("[]"), int(port)


class SmtpListener:
    """Serves ``handler`` on every address of ``config``."""

    def __init__(self, config: ListenerConfig, handler: SmtpHandler, tls: ServerTls | None) -> None:
        if config.implicit_tls and tls is None:
            raise ValueError("implicit TLS needs a certificate")
        self.config = config
        self.handler = handler
        self.tls = tls
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._activity: dict[asyncio.Task[None], Activity] = {}
        self._per_address: Counter[str] = Counter()
        self.refused = 0

    @property
    def sockets(self) -> list[tuple[str, int]]:
        """The bound (host, port) pairs (port 0 in the config becomes the real port)."""
        return [sock.getsockname()[:2] for srv in self._servers for sock in srv.sockets]

    @property
    def connections(self) -> int:
        """Sessions running now."""
        return len(self._tasks)

    async def start(self) -> None:
        """Bind every address; raises OSError if one cannot be bound (and binds none)."""
        loop = asyncio.get_running_loop()
        try:
            for host, port in self.config.addresses:
                server = await loop.create_server(self._protocol, host, port, reuse_address=True)
                self._servers.append(server)
        except OSError:
            await self.close()
            raise

    def reload_tls(self) -> None:
        """Re-read the certificate and key (SIGHUP); a failure is logged, the old pair stays."""
        if self.tls is None:
            return
        try:
            self.tls.reload()
            log.info("smtp tls reloaded", cert=str(self.tls.cert_file))
        except Exception as error:  # a bad renewal must not stop the listener
            log.error("smtp tls reload failed, keeping the old certificate", error=str(error))

    async def close(self, grace_s: float = 0.0) -> None:
        """Stop accepting and end every session with 421 4.3.2; a session inside a door's
        decision (a message being committed) gets up to ``grace_s`` to finish it first."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        deadline = asyncio.get_running_loop().time() + grace_s
        while self._tasks:
            for task, activity in list(self._activity.items()):
                late = asyncio.get_running_loop().time() >= deadline
                if not activity.deciding or late:
                    task.cancel()
            await asyncio.wait(set(self._tasks), timeout=CLOSE_POLL_S)
        for server in servers:
            await server.wait_closed()

    def _protocol(self) -> BoundedStreamProtocol:
        return _AcceptedProtocol(MAX_BUFFER_OCTETS, self)

    def _accepted(self, protocol: BoundedStreamProtocol) -> None:
        assert protocol.transport is not None
        peername = protocol.transport.get_extra_info("peername") or ("?", 0)
        peer = PeerInfo(address=str(peername[0]), port=int(peername[1]))
        activity = Activity()
        task = asyncio.get_running_loop().create_task(self._serve(protocol, peer, activity))
        self._tasks.add(task)
        self._activity[task] = activity
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._activity.pop(task, None)

    async def _serve(
        self, protocol: BoundedStreamProtocol, peer: PeerInfo, activity: Activity
    ) -> None:
        config = self.config
        too_many = (
            self._per_address[peer.address] >= config.max_per_address
            or len(self._tasks) > config.max_connections
        )
        if too_many:
            self.refused += 1
            await self._refuse(protocol)
            return
        self._per_address[peer.address] += 1
        try:
            context = self.tls.context if self.tls is not None else None
            session = ServerSession(config.session, tls_active=config.implicit_tls)
            await run_session(
                protocol,
                session,
                self.handler.connection(peer),
                peer,
                timeouts=config.timeouts,
                tls_context=context,
                implicit_tls=config.implicit_tls,
                activity=activity,
            )
        finally:
            self._per_address[peer.address] -= 1
            if self._per_address[peer.address] <= 0:
                del self._per_address[peer.address]

    async def _refuse(self, protocol: BoundedStreamProtocol) -> None:
        # RFC 5321 §3.1: a server may answer 421 instead of 220 and close.
        with contextlib.suppress(Exception):
            if not self.config.implicit_tls:
                await protocol.write(replies.TOO_MANY_CONNECTIONS.encode())
        if protocol.transport is not None:
            protocol.transport.close()


class _AcceptedProtocol(BoundedStreamProtocol):
    def __init__(self, max_buffer_octets: int, listener: SmtpListener) -> None:
        super().__init__(max_buffer_octets)
        self._listener = listener

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._listener._accepted(self)
