"""Crash safety: ``kill -9`` of ``postillon serve`` at random moments loses nothing accepted.

A real ``postillon serve`` subprocess delivers from a SQLite queue to a real receiver on
127.0.0.150:25, while this test enqueues hundreds of messages into the same database (each
enqueue returns only after its commit: that is the "accepted" of the promise). The server is
killed with SIGKILL at random moments and restarted; at the end every accepted message has
reached the receiver at least once. Duplicates are possible only for transactions in flight at
a kill (the remote 250 came, our record of it did not), so they are bounded by the number of
kills times the finished jobs a node lets wait for their commit plus those in session (twice
``max_parallel_jobs``).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from postillon.clock import SystemClock
from postillon.storage.sql_store import SqlStore
from tests.integration.engine.conftest import new_message
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory
from tests.support.receivers import ReceivedMessage, Receiver

pytestmark = pytest.mark.timeout(120)

MESSAGES = 300  # in three waves of 100
KILLS = 3
MAX_PARALLEL_JOBS = 8
SEED = int(os.environ.get("POSTILLON_CRASH_SEED", "20261129"))
_TEST_ID = re.compile(rb"^X-Test-Id: (\S+)\r$", re.M)


def write_config(path: Path, db: Path, nameserver: str, *, api_host: str = "127.0.0.150") -> None:
    path.write_text(
        f"""
[storage]
url = "sqlite:///{db}"
[api]
listen = "{api_host}:8025"
[dns]
nameservers = ["{nameserver}"]
timeout_s = 3
[delivery]
helo_name = "mta.postillon.test"
allow_private_destinations = ["127.0.0.0/8"]
max_parallel_jobs = {MAX_PARALLEL_JOBS}
lease_s = 3
poll_interval_s = 0.05
[delivery.timeouts]
connect_s = 3
final_dot_s = 10
[retry]
base_s = 1
cap_s = 2
jitter = 0.1
[mta_sts]
enabled = false
[dkim]
master_key_file = "{db.parent / "dkim-master.key"}"
"""
    )


async def start_server(config: Path, log: Path, *, role: str = "all") -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "postillon",
            "serve",
            "--config",
            str(config),
            "--role",
            role,
            stdout=out,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def received_ids(messages: list[ReceivedMessage]) -> Counter[str]:
    """How many times each X-Test-Id arrived."""
    return Counter(m.group(1).decode() for msg in messages for m in _TEST_ID.finditer(msg.data))


def rx_idle(rx: Receiver, accepted: list[str], filling: asyncio.Task[None]) -> bool:
    """Whether the wave is enqueued and everything accepted so far has arrived."""
    return filling.done() and set(received_ids(rx.messages)) >= set(accepted)


async def kill9(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
    await proc.wait()


async def test_kill_9_loses_nothing(
    tmp_path: Path, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    rng = random.Random(SEED)
    rx = await smtp_receiver("127.0.0.150")
    origin = test_dns.new_origin("crash")
    test_dns.add_zone(origin, "@ MX 10 mx\nmx A 127.0.0.150")
    domain = origin.rstrip(".")
    db, config, log = tmp_path / "queue.db", tmp_path / "postillon.toml", tmp_path / "serve.log"
    write_config(config, db, test_dns.nameserver)

    store = SqlStore.from_url(f"sqlite:///{db}", SystemClock())
    await store.migrate()
    account = await store.ensure_account("crash")
    accepted: list[str] = []
    at_kill: list[tuple[int, int]] = []  # (received, accepted) when each kill fell

    async def enqueue_wave(wave: int) -> None:
        for i in range(MESSAGES // 3):
            tag = f"w{wave}-{i}"
            await store.enqueue(new_message(account.id, [f"r{i % 7}@{domain}"], tag=tag))
            accepted.append(tag)  # the commit returned: this message is now promised

    server = await start_server(config, log)
    try:
        for wave in range(KILLS):
            filling = asyncio.create_task(enqueue_wave(wave))
            # Kill at a random point once this server has delivered something, so the kill
            # falls while mail flows (bounded: the wave is 100 messages).
            goal = len(rx.messages) + rng.randint(5, 60)
            async with asyncio.timeout(60):
                while len(rx.messages) < goal and not rx_idle(rx, accepted, filling):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            await kill9(server)
            at_kill.append((len(rx.messages), len(accepted)))
            await filling
            server = await start_server(config, log)
        async with asyncio.timeout(90):
            while True:
                got = {
                    m.group(1).decode() for msg in rx.messages for m in _TEST_ID.finditer(msg.data)
                }
                if got >= set(accepted):
                    break
                if server.returncode is not None:
                    pytest.fail(
                        f"serve exited with {server.returncode}:\n{log.read_text()[-3000:]}"
                    )
                await asyncio.sleep(0.2)
    finally:
        await kill9(server)
        await store.close()

    ids = received_ids(rx.messages)
    assert len(accepted) == MESSAGES
    # The kills fell while mail was flowing: some delivered, some still queued.
    assert any(0 < received < queued for received, queued in at_kill), at_kill
    assert set(ids) == set(accepted), "every accepted message arrived"
    duplicates = sum(n - 1 for n in ids.values())
    print(f"seed {SEED}: kills at (received, accepted) {at_kill}; {duplicates} duplicates")
    assert duplicates <= KILLS * 2 * MAX_PARALLEL_JOBS, f"{duplicates} duplicates (seed {SEED})"
