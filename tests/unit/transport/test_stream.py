"""The bounded receive buffer: pauses reading when full, resumes when drained, sees EOF."""

from __future__ import annotations

import asyncio

import pytest

from postillon.config.settings import SmtpTimeouts
from postillon.smtp.events import Phase
from postillon.transport.errors import ConnectionLostError
from postillon.transport.stream import BoundedStreamProtocol


class FakeTransport(asyncio.Transport):
    """Records flow-control calls and writes (no real transport can be told to misbehave)."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.written = b""
        self.closing = False

    def is_reading(self) -> bool:
        return not self.paused

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return self.closing


def protocol(max_octets: int = 10) -> tuple[BoundedStreamProtocol, FakeTransport]:
    proto = BoundedStreamProtocol(max_octets)
    transport = FakeTransport()
    proto.connection_made(transport)
    return proto, transport


async def test_pauses_reading_when_full_and_resumes_when_read() -> None:
    proto, transport = protocol()
    proto.data_received(b"x" * 12)
    assert not transport.is_reading()
    assert await proto.read(5) == b"xxxxx"
    assert transport.is_reading()
    assert proto.buffered_octets == 7
    assert proto.peak_buffered_octets == 12


async def test_read_waits_for_data_and_sees_eof() -> None:
    proto, _ = protocol()
    reader = asyncio.ensure_future(proto.read(100))
    await asyncio.sleep(0)
    assert not reader.done()
    proto.data_received(b"220 hi\r\n")
    assert await reader == b"220 hi\r\n"
    proto.eof_received()
    assert proto.is_closed
    assert await proto.read(100) == b""


async def test_discard_drops_unread_bytes() -> None:
    proto, _ = protocol()
    proto.data_received(b"injected")
    assert proto.discard() == 8
    assert proto.buffered_octets == 0


async def test_write_after_loss_raises_connection_lost() -> None:
    proto, transport = protocol()
    await proto.write(b"EHLO x\r\n")
    assert transport.written == b"EHLO x\r\n"
    proto.connection_lost(ConnectionResetError("reset by peer"))
    with pytest.raises(ConnectionLostError) as info:
        await proto.write(b"QUIT\r\n")
    assert info.value.is_transient
    await proto.wait_lost()


async def test_write_waits_while_the_transport_is_full() -> None:
    proto, _ = protocol()
    proto.pause_writing()
    writer = asyncio.ensure_future(proto.write(b"DATA\r\n"))
    await asyncio.sleep(0)
    assert not writer.done()
    proto.resume_writing()
    await writer


def test_every_phase_has_a_configured_timeout() -> None:
    timeouts = SmtpTimeouts()
    for phase in Phase:
        assert getattr(timeouts, f"{phase.value}_s") > 0
