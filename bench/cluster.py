"""Cluster throughput: 1, 2 and 3 worker processes on one PostgreSQL queue, to smtp-sink.

    .venv/bin/python bench/cluster.py [--messages 10000] [--workers 1,2,3]

For each worker count: a fresh PostgreSQL database (``PST_TEST_PG``, default the local
trust-auth server), that many ``postillon serve`` processes started and idle, then N
one-recipient messages enqueued in one transaction over five test domains (MX records in a
real knot server, each MX a Postfix smtp-sink on 127.0.0.210-214). The clock runs from the
commit until every recipient is delivered (polled in the database). Nodes send from
127.0.0.215 up. Bounded: every wait has a deadline; the database is dropped after each run.
Not a test: asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from tests.integration.cluster import nodes
from tests.integration.storage.pg import PgDatabase
from tests.support.dns_server import TestDns
from tests.support.smtp_sink import SmtpSink

from postillon.clock import SystemClock
from postillon.storage.schema import recipients
from postillon.storage.sql_store import SqlStore

TUNING = nodes.NodeTuning(max_parallel_jobs=64, lease_s=30.0, poll_interval_s=0.1)
# Bounds: node startup, and one run's drain whatever the machine's speed.
START_BOUND_S = 60.0
DRAIN_BOUND_S = 600.0
MAX_WORKERS = 5  # one source address each, 127.0.0.215-219


async def _sink(host: str) -> SmtpSink:
    sink = SmtpSink(host)  # no dumps: writing a file per message would be the bottleneck
    await sink.start()
    return sink


async def _wait_started(logs: list[Path]) -> None:
    async with asyncio.timeout(START_BOUND_S):
        # Polling: the logs are written by other processes.
        while not all(log.exists() and "node.started" in log.read_text() for log in logs):  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def _delivered(store: SqlStore) -> int:
    async with store.writer.connect() as connection:
        query = sa.select(sa.func.count()).where(recipients.c.status == "delivered")
        return int((await connection.execute(query)).scalar_one())


async def run(workers: int, messages: int, dns: TestDns, domains: list[str], work: Path) -> float:
    """Messages per second delivered by ``workers`` nodes."""
    database = PgDatabase("pst_bench").create()
    store = SqlStore.from_url(database.url, SystemClock())
    procs: list[asyncio.subprocess.Process] = []
    try:
        await store.migrate()
        account = await store.ensure_account("bench")
        batch = nodes.make_messages(account.id, domains, messages)
        logs = []
        for n in range(workers):
            config = nodes.write_config(
                work / f"w{workers}-node{n}.toml",
                url=database.url,
                nameserver=dns.nameserver,
                source=nodes.NODE_SOURCES[n],
                tuning=TUNING,
            )
            logs.append(work / f"w{workers}-node{n}.log")
            procs.append(await nodes.start_node(config, logs[-1]))
        await _wait_started(logs)
        await store.enqueue_many(batch)
        started = time.monotonic()
        async with asyncio.timeout(DRAIN_BOUND_S):
            while await _delivered(store) < messages:
                if any(proc.returncode is not None for proc in procs):
                    raise RuntimeError(f"a node exited; see {work}")
                await asyncio.sleep(0.25)
        return messages / (time.monotonic() - started)
    finally:
        for proc in procs:
            await nodes.stop(proc)
        await store.close()
        database.drop()


async def bench(worker_counts: list[int], messages: int, work: Path) -> dict[int, float]:
    dns = TestDns(work / "knot")
    dns.start()
    sinks: list[SmtpSink] = []
    try:
        domains: list[str] = []
        for host in nodes.RECEIVER_HOSTS:
            sinks.append(await _sink(host))
            origin = dns.new_origin("bench")
            dns.add_zone(origin, f"@ MX 10 mx\nmx A {host}")
            domains.append(origin.rstrip("."))
        return {n: await run(n, messages, dns, domains, work) for n in worker_counts}
    finally:
        for sink in sinks:
            await sink.stop()
        dns.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,3", help="comma-separated worker counts")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    if not all(1 <= n <= MAX_WORKERS for n in counts):
        parser.error(f"worker counts must be 1..{MAX_WORKERS}")
    with tempfile.TemporaryDirectory(prefix="pst-cluster-bench-") as tmp:
        figures = asyncio.run(bench(counts, args.messages, Path(tmp)))
    base = figures[counts[0]]
    print(f"{datetime.now(UTC):%Y-%m-%d} postillon cluster, {args.messages} msgs, PostgreSQL")
    for n, rate in figures.items():
        print(f"  {n} worker(s): {rate:6.0f} msgs/s  ({rate / base:.2f}x)")


if __name__ == "__main__":
    main()
