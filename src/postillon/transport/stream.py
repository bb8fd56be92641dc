"""A bounded receive buffer on an asyncio transport: the only place bytes wait to be parsed.

Owns reading and writing with flow control: reading pauses once ``max_buffer_octets`` are
held (so a flooding peer costs at most that plus one socket read), writing waits while the
transport's buffer is full. Records EOF and connection loss, so an idle connection the server
closed is detected before reuse. Must not parse SMTP and must not decide timeouts (the caller
wraps each call in its phase's timeout).
"""

from __future__ import annotations

import asyncio

from postillon.transport.errors import ConnectionLostError


class BoundedStreamProtocol(asyncio.Protocol):
    """An asyncio Protocol that keeps at most about ``max_buffer_octets`` unread."""

    def __init__(self, max_buffer_octets: int) -> None:
        self._max = max_buffer_octets
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self._reading_paused = False
        self._writing_paused = False
        self.eof = False
        self.lost = False
        self.lost_reason: str | None = None
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._lost_waiter: asyncio.Future[None] | None = None
        self.peak_buffered_octets = 0

    # -- asyncio callbacks -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self.peak_buffered_octets = max(self.peak_buffered_octets, len(self._buffer))
        if len(self._buffer) >= self._max and not self._reading_paused:
            self._pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.lost_reason = str(exc) if exc is not None else None
        self._wake_reader()
        for waiter in (self._drain_waiter, self._lost_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        self._drain_waiter = None

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the caller's side -------------------------------------------------------------------

    @property
    def buffered_octets(self) -> int:
        """Octets received and not yet read."""
        return len(self._buffer)

    @property
    def is_closed(self) -> bool:
        """Whether the peer sent EOF or the connection is gone."""
        return self.eof or self.lost

    async def read(self, max_octets: int) -> bytes:
        """Up to ``max_octets`` received bytes; b"" once the peer closed and all was read."""
        while not self._buffer and not self.is_closed:
            self._data_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._data_waiter
            finally:
                self._data_waiter = None
        data = bytes(self._buffer[:max_octets])
        del self._buffer[:max_octets]
        if self._reading_paused and len(self._buffer) < self._max and not self.is_closed:
            self._reading_paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        return data

    async def wait_lost(self) -> None:
        """Return once the connection is gone (after the caller closed the transport)."""
        if self.lost:
            return
        if self._lost_waiter is None:
            self._lost_waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._lost_waiter)

    def switch_transport(self, transport: asyncio.Transport) -> None:
        """Use ``transport`` from now on (the TLS transport after STARTTLS)."""
        self.transport = transport
        self._reading_paused = False

    def discard(self) -> int:
        """Drop every unread byte (before STARTTLS); return how many were dropped."""
        dropped = len(self._buffer)
        self._buffer.clear()
        return dropped

    async def write(self, data: bytes) -> None:
        """Write ``data`` and wait until the transport can take more."""
        if self.lost or self.transport is None or self.transport.is_closing():
            raise ConnectionLostError("connection closed before we could write")
        self.transport.write(data)
        while self._writing_paused and not self.lost:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            await self._drain_waiter
        if self.lost:
            raise ConnectionLostError(f"connection lost while writing: {self.lost_reason}")

    def _pause_reading(self) -> None:
        self._reading_paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def _wake_reader(self) -> None:
        waiter = self._data_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
