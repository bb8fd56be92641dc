"""A scripted SMTP client over TLS for hostile tests: writes exactly the bytes given, reads
replies by count, never interprets them."""

from __future__ import annotations

import asyncio
import base64
import ssl
from types import TracebackType
from typing import Self

# Every read in these tests is bounded: a missing reply fails the test in seconds.
READ_TIMEOUT_S = 5.0


class RawClient:
    """One connection to the implicit-TLS listener (or plaintext, then ``starttls``)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None) -> None:
        self.host, self.port, self.context = host, port, context
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Self:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.context
        )
        greeting = await self.replies(1)
        assert greeting[0].startswith(b"220 "), greeting
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.writer is not None:
            self.writer.close()

    async def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.writer.drain()

    async def replies(self, count: int) -> list[bytes]:
        """The next ``count`` replies (their last lines)."""
        assert self.reader is not None
        found: list[bytes] = []
        async with asyncio.timeout(READ_TIMEOUT_S):
            while len(found) < count:
                line = await self.reader.readline()
                if not line:
                    raise ConnectionError(f"closed after {found!r}")
                if line[3:4] != b"-":
                    found.append(line.rstrip(b"\r\n"))
        return found

    async def command(self, data: bytes, count: int = 1) -> list[bytes]:
        await self.send(data)
        return await self.replies(count)

    async def login(self, password: str, user: str = "app") -> bytes:
        await self.command(b"EHLO client.test\r\n")
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        [reply] = await self.command(f"AUTH PLAIN {token}\r\n".encode())
        return reply

    async def closed(self) -> bool:
        """Whether the server closed the connection (EOF within the timeout)."""
        assert self.reader is not None
        async with asyncio.timeout(READ_TIMEOUT_S):
            return await self.reader.read() == b""
