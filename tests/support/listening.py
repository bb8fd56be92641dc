"""Whether a TCP socket is listening on an IPv4 address and port, read from /proc/net/tcp.

Owns: the readiness check for servers started as subprocesses (smtp-sink, Postfix). Reading the
kernel's socket table never opens a connection, so a check does not count as an SMTP session.
It must not connect to, or bind, anything.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path

PROC_NET_TCP = Path("/proc/net/tcp")
# Kernel TCP state code for LISTEN (include/net/tcp_states.h).
TCP_LISTEN = "0A"
# How often readiness is polled: short, since startup takes tens of milliseconds.
POLL_INTERVAL_S = 0.02


def _proc_address(host: str, port: int) -> str:
    # /proc/net/tcp shows the address as a host-order 32-bit hex number, the port big-endian.
    (as_int,) = struct.unpack("=I", socket.inet_aton(host))
    return f"{as_int:08X}:{port:04X}"


def is_listening(host: str, port: int) -> bool:
    """True if some socket listens on exactly ``host:port`` (or on 0.0.0.0:port)."""
    wanted = {_proc_address(host, port), _proc_address("0.0.0.0", port)}
    for line in PROC_NET_TCP.read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[1] in wanted and fields[3] == TCP_LISTEN:
            return True
    return False


def wait_listening_sync(host: str, port: int, timeout_s: float) -> bool:
    """Poll until ``host:port`` listens; False if it did not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not is_listening(host, port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_S)
    return True


async def wait_listening(host: str, port: int, timeout_s: float) -> bool:
    """Async form of ``wait_listening_sync``."""
    deadline = time.monotonic() + timeout_s
    while not is_listening(host, port):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_INTERVAL_S)
    return True
