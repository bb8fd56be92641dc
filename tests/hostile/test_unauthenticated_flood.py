"""A real ``postillon serve`` under a flood of large unauthenticated POSTs keeps its memory.

Twenty clients each start a 30 MB POST to ``/v1/emails/batch`` with no key at once; every one
gets its 401 and the server's resident memory (from /proc) grows by less than 50 MB. Before
the gate, each body was read and parsed first (about 425 MB for one 34 MB batch).
Loopback 127.0.17.2 belongs to this test.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tests.integration.engine.test_crash import start_server, write_config
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(120)

HOST, PORT = "127.0.17.2", 8025
CLIENTS = 20
BODY_OCTETS = 30 * 1024 * 1024
CHUNK = b" " * (1024 * 1024)
RSS_GROWTH_BOUND_KB = 50 * 1024
# Each client gives up writing after this long (the server is expected to answer at once).
CLIENT_GUARD_S = 30.0
STARTUP_S = 30.0
SAMPLE_EVERY_S = 0.02


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


async def wait_until_serving() -> None:
    async with asyncio.timeout(STARTUP_S):
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection(HOST, PORT)
                writer.close()
                return
            await asyncio.sleep(0.1)


async def unauthenticated_post() -> bytes:
    """Start a 30 MB POST without a key; the status line the server answered."""
    reader, writer = await asyncio.open_connection(HOST, PORT)
    head = (
        f"POST /v1/emails/batch HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {BODY_OCTETS}\r\n\r\n"
    ).encode()

    async def push_body() -> None:
        writer.write(head + b"[")
        sent = 1
        while sent < BODY_OCTETS:
            piece = CHUNK[: BODY_OCTETS - sent]
            writer.write(piece)
            await writer.drain()
            sent += len(piece)

    pushing = asyncio.create_task(push_body())
    try:
        async with asyncio.timeout(CLIENT_GUARD_S):
            status = await reader.readline()
    finally:
        pushing.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await pushing
        writer.close()
    return status


async def test_twenty_30mb_unauthenticated_posts_leave_memory_flat(
    tmp_path: Path, test_dns: TestDns
) -> None:
    config, log = tmp_path / "postillon.toml", tmp_path / "serve.log"
    write_config(config, tmp_path / "queue.db", test_dns.nameserver, api_host=HOST)
    server = await start_server(config, log)
    try:
        await wait_until_serving()
        await asyncio.sleep(0.5)  # let startup settle before the baseline
        before = rss_kb(server.pid)
        peak = before
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kb(server.pid))
                await asyncio.sleep(SAMPLE_EVERY_S)

        sampler = asyncio.create_task(sample())
        statuses = await asyncio.gather(*(unauthenticated_post() for _ in range(CLIENTS)))
        await asyncio.sleep(0.2)
        done.set()
        await sampler
        peak = max(peak, rss_kb(server.pid))
    finally:
        server.terminate()
        async with asyncio.timeout(20):
            await server.wait()
    assert all(s.startswith(b"HTTP/1.1 401 ") for s in statuses), statuses
    growth = peak - before
    print(f"RSS {before} kB before, peak {peak} kB: growth {growth} kB")  # shown with -s
    assert growth < RSS_GROWTH_BOUND_KB, f"RSS grew {growth} kB (from {before} kB)"
