"""A scripted misbehaving SMTP server on a loopback address, for tests/hostile.

Owns: listening on ``host:port`` in the test's event loop and running a test's script (an
async function of :class:`HostilePeer`) for each connection, so a test can make a server that
floods, drips, lies about STARTTLS or hangs up mid-DATA. Every script is bounded by the test
that writes it; the server cancels running scripts and closes their connections on ``stop()``.
It must not bind anything but the address the test gives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

# The longest command line a script reads (RFC 5321 §4.5.3.1.4 says 512; slack for tests).
MAX_COMMAND_LINE = 4096
# How long a script waits for the client's next command before giving up.
READ_TIMEOUT_S = 10.0

Script = Callable[["HostilePeer"], Awaitable[None]]


class HostilePeer:
    """The server's side of one connection, as a script sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.commands: list[bytes] = []

    async def send(self, data: bytes) -> None:
        """Write ``data`` and wait until the transport took it."""
        self.writer.write(data)
        await self.writer.drain()

    async def read_command(self) -> bytes:
        """The client's next line without CRLF (recorded in ``commands``); b"" at EOF."""
        async with asyncio.timeout(READ_TIMEOUT_S):
            line = await self.reader.readline()
        command = line.rstrip(b"\r\n")
        if line:
            self.commands.append(command)
        return command

    async def expect(self, verb: bytes) -> bytes:
        """Read a command and check it starts with ``verb`` (case-insensitive)."""
        command = await self.read_command()
        if not command.upper().startswith(verb.upper()):
            raise AssertionError(f"expected {verb!r}, client sent {command!r}")
        return command

    async def read_until_dot(self) -> bytes:
        """The DATA payload up to and including the terminating ``.`` line."""
        lines = []
        while True:
            async with asyncio.timeout(READ_TIMEOUT_S):
                line = await self.reader.readline()
            if not line:
                break
            lines.append(line)
            if line == b".\r\n":
                break
        return b"".join(lines)

    async def start_tls(self, context: ssl.SSLContext) -> None:
        """Upgrade this connection to TLS as the server."""
        await self.writer.start_tls(context)

    async def greet_and_ehlo(self, *keywords: str) -> None:
        """Send a 220, answer EHLO with ``keywords`` (the usual opening of a script)."""
        await self.send(b"220 hostile.test ESMTP\r\n")
        await self.expect(b"EHLO")
        await self.send(ehlo_reply(*keywords))


def ehlo_reply(*keywords: str) -> bytes:
    """A 250 EHLO reply announcing ``keywords``."""
    lines = ["hostile.test", *keywords]
    last = len(lines) - 1
    return b"".join(
        f"250{' ' if i == last else '-'}{line}\r\n".encode() for i, line in enumerate(lines)
    )


class HostileServer:
    """Runs ``script`` for every connection to ``host:port``.

    ``connections`` counts connections; ``errors`` holds exceptions a script raised other than
    the client hanging up (a test asserts it is empty when the script's checks matter).
    """

    def __init__(self, host: str, script: Script, *, port: int = 25) -> None:
        self.host = host
        self.port = port
        self.script = script
        self.connections = 0
        self.errors: list[BaseException] = []
        self.peers: list[HostilePeer] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.connections += 1
        peer = HostilePeer(reader, writer)
        self.peers.append(peer)
        try:
            await self.script(peer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
            pass  # the client gave up on us: the point of most scripts
        except asyncio.CancelledError:
            pass  # stop() cancelled the script; ending quietly keeps asyncio from logging it
        except Exception as error:  # recorded for the test to assert on
            self.errors.append(error)
        finally:
            writer.transport.abort()
            if task is not None:
                self._tasks.discard(task)

    async def start(self) -> None:
        """Listen on ``host:port``."""
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, reuse_address=True, limit=MAX_COMMAND_LINE
        )

    async def stop(self) -> None:
        """Stop listening, cancel running scripts, close their connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.wait_closed()

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
