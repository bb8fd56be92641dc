"""Misbehaving servers: the client gives up within its bounds, raises a temporary error, and
holds a bounded amount of memory whatever the peer sends."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from postillon.config.settings import SmtpTimeouts
from postillon.errors import PostillonError, ProtocolError, TimeoutPhaseError, TlsError
from postillon.smtp.errors import ServiceClosingError
from postillon.smtp.reply import MAX_BUFFER_OCTETS
from postillon.transport import SmtpConnection, TlsMode
from postillon.transport.errors import ConnectionLostError, TlsHandshakeError
from tests.support.certs import TestPki
from tests.support.hostile import HostilePeer, HostileServer, Script, ehlo_reply

pytestmark = pytest.mark.timeout(60)

HELO = "client.postillon.test"
MX = "hostile.test"
MESSAGE = b"Subject: x\r\n\r\n" + b"body line\r\n" * 2000
TIMEOUTS = SmtpTimeouts(
    connect_s=5, greeting_s=5, ehlo_s=5, starttls_s=5, mail_s=5, rcpt_s=5, data_init_s=5,
    data_block_s=5, final_dot_s=5, rset_s=5, quit_s=1,
)  # fmt: skip
# A bound on what the client may allocate while a peer floods it: a few times the parser's
# buffer (one socket read of up to 256 KiB comes on top), far below the flood.
MEMORY_BOUND_OCTETS = 1024 * 1024
# A guard so a client that never gives up fails the test instead of hanging it.
GUARD_S = 20.0
# Flood sizes, each well past every limit of the client.
FLOOD_OCTETS = 2 * 1024 * 1024
FLOOD_CHUNK = 16 * 1024

Serve = Callable[[str, Script], Awaitable[HostileServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[HostileServer] = []

    async def start(host: str, script: Script) -> HostileServer:
        server = HostileServer(host, script)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


async def open_conn(
    host: str,
    *,
    tls_mode: TlsMode = TlsMode.OPPORTUNISTIC,
    server_name: str | None = None,
    ca_file: Path | None = None,
) -> SmtpConnection:
    async with asyncio.timeout(GUARD_S):
        return await SmtpConnection.open(
            host,
            helo_name=HELO,
            timeouts=TIMEOUTS,
            tls_mode=tls_mode,
            server_name=server_name,
            ca_file=ca_file,
        )


async def peak_while_failing(host: str, error: type[PostillonError]) -> tuple[PostillonError, int]:
    """Open a connection that must fail with ``error``; return it and the allocation peak."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(error) as info:
            await open_conn(host)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.is_transient
    return info.value, peak


async def test_endless_continuation_lines(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        for _ in range(FLOOD_OCTETS // FLOOD_CHUNK):
            await peer.send(b"220-still greeting you\r\n" * (FLOOD_CHUNK // 24))

    await serve("127.0.0.30", script)
    error, peak = await peak_while_failing("127.0.0.30", ProtocolError)
    assert "lines" in str(error)
    assert peak < MEMORY_BOUND_OCTETS


async def test_reply_without_crlf(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        await peer.send(b"220 ")
        for _ in range(FLOOD_OCTETS // FLOOD_CHUNK):
            await peer.send(b"x" * FLOOD_CHUNK)

    await serve("127.0.0.31", script)
    error, peak = await peak_while_failing("127.0.0.31", ProtocolError)
    assert "CRLF" in str(error)
    assert peak < MEMORY_BOUND_OCTETS


async def test_two_megabyte_banner(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        await peer.send(b"220 ")
        for _ in range(FLOOD_OCTETS // FLOOD_CHUNK):
            await peer.send(b"b" * FLOOD_CHUNK)
        await peer.send(b"\r\n")

    await serve("127.0.0.32", script)
    _, peak = await peak_while_failing("127.0.0.32", ProtocolError)
    assert peak < MEMORY_BOUND_OCTETS


async def test_many_small_replies_after_ehlo_stay_bounded(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        await peer.greet_and_ehlo("PIPELINING")
        await peer.read_command()
        for _ in range(FLOOD_OCTETS // FLOOD_CHUNK):
            await peer.send(b"250 ok\r\n" * (FLOOD_CHUNK // 8))

    await serve("127.0.0.33", script)
    conn = await open_conn("127.0.0.33")
    # The flood answers MAIL, RCPT and DATA wrongly (250 to DATA), then keeps coming.
    with pytest.raises(PostillonError):
        async with asyncio.timeout(GUARD_S):
            await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    assert conn.peak_buffered_octets <= MAX_BUFFER_OCTETS + 256 * 1024
    assert not conn.is_usable
    await conn.close()


async def test_server_dripping_one_byte_at_a_time_times_out(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        for byte in b"220 hostile.test drip drip drip drip drip drip drip drip drip\r\n":
            await peer.send(bytes([byte]))
            await asyncio.sleep(0.2)

    await serve("127.0.0.34", script)
    # Each byte comes well within the timeout; the reply as a whole does not.
    timeouts = TIMEOUTS.model_copy(update={"greeting_s": 1.0})
    with pytest.raises(TimeoutPhaseError, match="greeting") as info:
        async with asyncio.timeout(GUARD_S):
            await SmtpConnection.open("127.0.0.34", helo_name=HELO, timeouts=timeouts)
    assert info.value.is_transient


async def test_server_closing_mid_data(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        await peer.greet_and_ehlo("PIPELINING", "8BITMIME")
        await peer.read_command()  # MAIL
        await peer.read_command()  # RCPT
        await peer.read_command()  # DATA
        await peer.send(b"250 ok\r\n250 ok\r\n354 go on\r\n")
        await peer.reader.readexactly(100)
        peer.writer.transport.abort()

    server = await serve("127.0.0.35", script)
    conn = await open_conn("127.0.0.35")
    with pytest.raises(ConnectionLostError) as info:
        async with asyncio.timeout(GUARD_S):
            await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    assert info.value.is_transient
    assert not conn.is_usable
    await conn.close()
    assert server.errors == []


async def test_replies_injected_with_the_starttls_go_ahead_are_discarded(
    serve: Serve, pki: TestPki
) -> None:
    context = pki.server_context(MX)

    async def script(peer: HostilePeer) -> None:
        await peer.greet_and_ehlo("STARTTLS")
        await peer.expect(b"STARTTLS")
        # The go-ahead and a forged EHLO reply in one segment (CVE-2011-0411).
        await peer.send(b"220 go ahead\r\n" + ehlo_reply("SIZE 10", "PIPELINING"))
        await peer.start_tls(context)
        await peer.expect(b"EHLO")
        await peer.send(ehlo_reply("SIZE 100000", "8BITMIME"))
        await peer.expect(b"QUIT")
        await peer.send(b"221 bye\r\n")

    server = await serve("127.0.0.36", script)
    conn = await open_conn("127.0.0.36", server_name=MX, ca_file=pki.ca_pem_path)
    assert conn.tls.used
    assert conn.tls.verified
    assert conn.extensions.size_limit == 100000
    assert not conn.extensions.pipelining
    assert "discarded" in conn.transcript.render()
    await conn.close()
    assert server.errors == []


async def test_bytes_sent_between_starttls_and_the_handshake_fail_the_handshake(
    serve: Serve, pki: TestPki
) -> None:
    context = pki.server_context(MX)

    async def script(peer: HostilePeer) -> None:
        await peer.greet_and_ehlo("STARTTLS")
        await peer.expect(b"STARTTLS")
        await peer.send(b"220 go ahead\r\n")
        await asyncio.sleep(0.05)  # the client is already in its handshake
        await peer.send(ehlo_reply("SIZE 10"))
        await peer.start_tls(context)

    await serve("127.0.0.37", script)
    with pytest.raises(TlsHandshakeError) as info:
        await open_conn(
            "127.0.0.37", tls_mode=TlsMode.VERIFIED, server_name=MX, ca_file=pki.ca_pem_path
        )
    assert isinstance(info.value, TlsError)
    assert info.value.is_transient


async def test_421_at_greeting(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        await peer.send(b"421 4.3.2 too busy, come back later\r\n")

    server = await serve("127.0.0.38", script)
    with pytest.raises(ServiceClosingError) as info:
        await open_conn("127.0.0.38")
    assert info.value.is_transient
    assert info.value.reply.code == 421
    assert server.connections == 1


async def test_421_sent_while_idle_makes_the_connection_unusable(serve: Serve) -> None:
    async def script(peer: HostilePeer) -> None:
        await peer.greet_and_ehlo("PIPELINING")
        await peer.send(b"421 4.4.2 idle too long, closing\r\n")
        await peer.read_command()  # whatever comes, it is too late

    await serve("127.0.0.39", script)
    conn = await open_conn("127.0.0.39")
    for _ in range(500):  # the 421 reaches us within a few loop turns; 5 s at most
        await asyncio.sleep(0.01)
        if not conn.is_usable:
            break
    assert not conn.is_usable
    with pytest.raises(ConnectionLostError, match="idle") as info:
        await conn.reset()
    assert info.value.is_transient
    await conn.close()
