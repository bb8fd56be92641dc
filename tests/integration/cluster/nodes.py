"""Several ``postillon serve`` processes on one PostgreSQL database, for the cluster test and
bench/cluster.py.

Owns the node configuration (one source address per node, so the receiver's records say which
node delivered), starting nodes as subprocesses, killing them by PID, and the test mail's
domains (MX records in the test DNS pointing at smtp-sink receivers) and messages.
Loopback addresses 127.0.0.210 to 127.0.0.219 belong to the cluster tests: receivers on
.210-.214 (port 25), node source addresses from .215 up. Must not bind anything else.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from postillon.storage.records import NewMessage, NewRecipient
from tests.support.dns_server import TestDns
from tests.support.fixtures import SmtpSinkFactory
from tests.support.smtp_sink import SmtpSink

RECEIVER_HOSTS = tuple(f"127.0.0.{210 + i}" for i in range(5))
NODE_SOURCES = tuple(f"127.0.0.{215 + i}" for i in range(5))
API_PORT = 8025  # each node's API on its own source address
_TEST_ID = re.compile(rb"^X-Test-Id: (\S+)$", re.M)
# A transaction's dump file, while smtp-sink writes it, is already listed: count with care.
ENQUEUE_BATCH = 500


@dataclass(frozen=True)
class NodeTuning:
    """The delivery settings every node of a cluster run gets."""

    max_parallel_jobs: int = 16
    concurrency_per_destination: int = 10
    lease_s: float = 3.0
    poll_interval_s: float = 0.1


def write_config(path: Path, *, url: str, nameserver: str, source: str, tuning: NodeTuning) -> Path:
    """A node's config file: ``url``, the test DNS, one source address (also its API's),
    short leases."""
    path.write_text(
        f"""
[storage]
url = "{url}"
[api]
listen = "{source}:{API_PORT}"
[dns]
nameservers = ["{nameserver}"]
timeout_s = 3
[delivery]
helo_name = "mta.postillon.test"
allow_private_destinations = ["127.0.0.0/8"]
source_addresses = ["{source}"]
max_parallel_jobs = {tuning.max_parallel_jobs}
concurrency_per_destination = {tuning.concurrency_per_destination}
lease_s = {tuning.lease_s}
poll_interval_s = {tuning.poll_interval_s}
[delivery.timeouts]
connect_s = 3
final_dot_s = 10
[retry]
base_s = 1
cap_s = 2
jitter = 0.1
[mta_sts]
enabled = false
"""
    )
    return path


async def start_node(config: Path, log: Path) -> asyncio.subprocess.Process:
    """``python -m postillon serve --config config``, output appended to ``log``."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "postillon",
            "serve",
            "--config",
            str(config),
            stdout=out,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


async def kill9(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the node we started (by its PID) and reap it."""
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
    await process.wait()


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (graceful drain), then SIGKILL past a bound."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            await kill9(process)


async def start_receivers(
    smtp_sink: SmtpSinkFactory, test_dns: TestDns
) -> tuple[list[str], list[SmtpSink]]:
    """One capturing smtp-sink per receiver host, each the MX of its own test domain."""
    domains: list[str] = []
    sinks: list[SmtpSink] = []
    for host in RECEIVER_HOSTS:
        sinks.append(await smtp_sink(host, capture=True))
        origin = test_dns.new_origin("cluster")
        test_dns.add_zone(origin, f"@ MX 10 mx\nmx A {host}")
        domains.append(origin.rstrip("."))
    return domains, sinks


def make_messages(account_id: str, domains: Sequence[str], count: int) -> list[NewMessage]:
    """``count`` one-recipient messages, spread over ``domains``, tagged ``m<n>``."""
    batch: list[NewMessage] = []
    for n in range(count):
        rcpt = f"r{n}@{domains[n % len(domains)]}"
        tag = f"m{n}"
        body = (
            f"From: Sender <sender@postillon.test>\r\nTo: {rcpt}\r\n"
            f"Subject: cluster {tag}\r\nX-Test-Id: {tag}\r\n\r\nHello from the cluster.\r\n"
        ).encode()
        batch.append(
            NewMessage(
                account_id=account_id,
                mail_from="bounces@postillon.test",
                recipients=(NewRecipient(rcpt),),
                body=body,
                subject=f"cluster {tag}",
                tags=(tag,),
            )
        )
    return batch


def dumps_so_far(sinks: Sequence[SmtpSink]) -> int:
    """How many transactions the sinks have dumped (cheap: a directory listing)."""
    return sum(len(os.listdir(sink.capture_dir)) for sink in sinks if sink.capture_dir)


def deliveries(sinks: Sequence[SmtpSink]) -> list[tuple[str, str]]:
    """(test id, client address) of every message every sink received."""
    found: list[tuple[str, str]] = []
    for sink in sinks:
        for capture in sink.captured_messages():
            found.extend(
                (match.group(1).decode(), capture.client_addr)
                for match in _TEST_ID.finditer(capture.data)
            )
    return found


def by_id(found: Sequence[tuple[str, str]]) -> Counter[str]:
    """How many times each test id arrived."""
    return Counter(test_id for test_id, _ in found)
