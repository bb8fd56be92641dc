"""Fairness in a running engine: another account's message, enqueued while one account's
backlog is being delivered, reaches the MX within a few deliveries, not after the backlog;
transactional mail of an account overtakes its own broadcast backlog the same way.

Real SQLite, real knot DNS, a real aiosmtpd receiver on 127.0.20.10:25 (one destination for
both accounts: the per-destination slots must be fair too, not only the claim).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.queue.stream import Stream
from tests.integration.engine.conftest import engine_settings, new_message
from tests.integration.engine.test_engine import mx_zone
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(120)

BACKLOG = 300
PARALLEL = 16
# How many backlog messages may reach the MX between the late message's enqueue and its own
# arrival: the jobs already in sessions, those that finish before the next claim (a quarter of
# the slots' worth), and some slack for the turn of the fair slots. A FIFO claim would make it
# the whole rest of the backlog; FIFO slots, every job the node holds (four per slot before).
MAX_OVERTAKEN = PARALLEL + PARALLEL // 4 + PARALLEL // 4


def _node(tmp_path: Path, test_dns: TestDns, pki: TestPki) -> Node:
    settings = engine_settings(tmp_path / "queue.db", test_dns, pki)
    delivery = settings.delivery.model_copy(
        update={"max_parallel_jobs": PARALLEL, "concurrency_per_destination": PARALLEL}
    )
    return Node(settings.model_copy(update={"delivery": delivery}), clock=FakeClock())


async def _late_arrival(
    tmp_path: Path,
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
    *,
    label: str,
    host: str,
    same_account: bool,
) -> tuple[int, int]:
    """(backlog messages received when the late one was enqueued, and before it arrived)."""
    rx = await smtp_receiver(host)
    domain = mx_zone(test_dns, label, (10, host))
    node = _node(tmp_path, test_dns, pki)
    try:
        await node.migrate()
        bulk = await node.store.ensure_account("bulk")
        late_account = bulk if same_account else await node.store.ensure_account("tx")
        backlog = [
            replace(new_message(bulk.id, [f"n{n}@{domain}"], tag="bulk"), stream=Stream.BROADCAST)
            for n in range(BACKLOG)
        ]
        await node.store.enqueue_many(backlog)
        stop = asyncio.Event()
        engine = asyncio.create_task(node.engine.run(stop))
        try:
            await rx.wait_for(20, timeout_s=30)
            await node.store.enqueue(new_message(late_account.id, [f"reset@{domain}"], tag="tx"))
            before = len(rx.messages)
            async with asyncio.timeout(30):
                while not any("reset@" in r for m in rx.messages for r in m.rcpt_tos):  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
            position = next(
                i for i, m in enumerate(rx.messages) if any("reset@" in r for r in m.rcpt_tos)
            )
        finally:
            stop.set()
            await engine
    finally:
        await node.close()
    return before, position


async def test_another_accounts_message_overtakes_the_backlog(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> None:
    before, position = await _late_arrival(
        tmp_path,
        test_dns,
        pki,
        smtp_receiver,
        label="fairacct",
        host="127.0.20.10",
        same_account=False,
    )

    assert position - before <= MAX_OVERTAKEN
    assert position < BACKLOG // 2


async def test_transactional_mail_overtakes_its_own_accounts_broadcast(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> None:
    before, position = await _late_arrival(
        tmp_path,
        test_dns,
        pki,
        smtp_receiver,
        label="fairstream",
        host="127.0.20.11",
        same_account=True,
    )

    assert position - before <= MAX_OVERTAKEN
    assert position < BACKLOG // 2
