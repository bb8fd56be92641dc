"""SMTP client throughput: N messages of 4 KiB over K reused connections to Postfix's smtp-sink.

    .venv/bin/python bench/smtp_client.py [--messages 2000] [--connections 10] [--size 4096]

Starts smtp-sink on 127.0.0.10:25 (twice: as is, and with -p so it does not offer PIPELINING),
sends the messages over K concurrent connections, each reused for its share of the messages,
and prints messages per second for each mode: with the RSET probe the connection pool sends
before each reuse, and without it. Every run is bounded (BENCH_TIMEOUT_S); smtp-sink is stopped
by its PID. Not a test: asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from postillon.config.settings import SmtpTimeouts
from postillon.transport import SmtpConnection, TlsMode

HOST = "127.0.0.10"
PORT = 25
# The longest a single run may take, whatever the machine.
BENCH_TIMEOUT_S = 300.0
# smtp-sink listens within milliseconds; past this it failed to start.
START_TIMEOUT_S = 10.0
# smtp-sink's listen backlog (its last argument).
BACKLOG = 256
TIMEOUTS = SmtpTimeouts(connect_s=10, greeting_s=10, ehlo_s=10, rset_s=10, final_dot_s=30)


def make_message(size: int) -> bytes:
    head = (
        b"From: Sender <sender@bench.example>\r\n"
        b"To: Recipient <rcpt@sink.example>\r\n"
        b"Subject: benchmark message\r\n"
        b"Message-ID: <bench-1@bench.example>\r\n"
        b"\r\n"
    )
    line = b"The quick brown fox jumps over the lazy dog, again and again.\r\n"
    body = (line * (size // len(line) + 1))[: size - len(head) - 2] + b"\r\n"
    return head + body


@dataclass(frozen=True)
class Run:
    label: str
    messages: int
    seconds: float
    delivered: int | None

    def __str__(self) -> str:
        rate = self.messages / self.seconds if self.seconds else 0.0
        told = "" if self.delivered is None else f"  ({self.delivered} delivered)"
        return (
            f"{self.label:<36} {self.messages:>6} msgs {self.seconds:>7.2f} s "
            f"{rate:>9.0f} msg/s{told}"
        )


class Sink:
    """smtp-sink on HOST:PORT, started and stopped by PID."""

    def __init__(self, options: list[str]) -> None:
        binary = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin")
        if binary is None:
            sys.exit("smtp-sink not found (Debian package postfix)")
        argv = [binary]
        if os.geteuid() == 0:
            argv += ["-u", "root"]
        self.argv = [*argv, *options, f"inet:{HOST}:{PORT}", str(BACKLOG)]
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Sink:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                _, writer = await asyncio.open_connection(HOST, PORT)
            except OSError:
                if time.monotonic() > deadline or self.process.returncode is not None:
                    raise
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(5):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def worker(count: int, message: bytes, probe: bool) -> int:
    conn = await SmtpConnection.open(
        HOST, PORT, helo_name="bench.postillon.test", tls_mode=TlsMode.DISABLED, timeouts=TIMEOUTS
    )
    delivered = 0
    try:
        for n in range(count):
            if probe and n:
                await conn.reset()
            result = await conn.send_transaction(
                "sender@bench.example", ["rcpt@sink.example"], message
            )
            delivered += len(result.delivered)
    finally:
        await conn.close()
    return delivered


async def run(label: str, messages: int, connections: int, message: bytes, probe: bool) -> Run:
    shares = [messages // connections + (i < messages % connections) for i in range(connections)]
    start = time.perf_counter()
    async with asyncio.timeout(BENCH_TIMEOUT_S):
        counts = await asyncio.gather(*(worker(s, message, probe) for s in shares if s))
    return Run(label, messages, time.perf_counter() - start, sum(counts))


async def smtp_source(messages: int, connections: int, size: int) -> Run | None:
    """The same load from Postfix's smtp-source (C, never pipelines), for a ratio."""
    binary = shutil.which("smtp-source") or shutil.which("smtp-source", path="/usr/sbin")
    if binary is None:
        return None
    argv = [binary, "-4", "-d", "-s", str(connections), "-m", str(messages), "-l", str(size)]
    argv += ["-f", "sender@bench.example", "-t", "rcpt@sink.example", f"{HOST}:{PORT}"]
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(*argv)
    async with asyncio.timeout(BENCH_TIMEOUT_S):
        await process.wait()
    return Run("smtp-source (Postfix, C) same load", messages, time.perf_counter() - start, None)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    message = make_message(args.size)
    print(
        f"{args.messages} messages of {len(message)} octets over {args.connections} "
        f"connections to smtp-sink on {HOST}:{PORT}"
    )
    for options, mode in (([], "PIPELINING"), (["-p"], "no PIPELINING")):
        async with Sink(options):
            await run("warm-up", min(100, args.messages), 1, message, probe=False)
            for probe in (True, False):
                label = f"{mode}, {'RSET probe' if probe else 'no RSET'} per reuse"
                print(await run(label, args.messages, args.connections, message, probe))
            source = await smtp_source(args.messages, args.connections, args.size)
            if source is not None:
                print(source)


if __name__ == "__main__":
    asyncio.run(main())
