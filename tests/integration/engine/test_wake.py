"""Instant pick-up: an enqueue (or retry-now) on a node wakes its engine at once.

The engine polls only every hour here, so a message that reaches the receiver within the
test's timeout was claimed because the store's ``due`` signal woke the engine, not by the poll.
Real SQLite, real knot DNS, a real aiosmtpd receiver on 127.0.13.10:25.
"""

from __future__ import annotations

import asyncio

import pytest

from postillon.app import Node
from postillon.queue.status import RecipientStatus
from tests.integration.engine.conftest import NodeFactory, new_message
from tests.integration.engine.test_engine import mx_zone
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(60)

# Far longer than the test's timeout: only a wake-up can get the message out in time.
POLL_INTERVAL_S = 3600.0


async def idle_engine(node: Node, stop: asyncio.Event) -> asyncio.Task[None]:
    """The node's engine running, past its first (empty) claim and asleep until woken."""
    commits = node.store.engines.writes.commits
    task = asyncio.create_task(node.engine.run(stop))
    async with asyncio.timeout(10):  # its first claim (a commit) finds nothing
        while node.store.engines.writes.commits == commits:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # now it sleeps for the poll interval
    return task


async def test_an_enqueue_is_claimed_without_waiting_for_the_poll(
    make_node: NodeFactory, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    rx = await smtp_receiver("127.0.13.10")
    domain = mx_zone(test_dns, "wake", (10, "127.0.13.10"))
    node = make_node(poll_interval_s=POLL_INTERVAL_S)
    await node.migrate()
    account = await node.store.ensure_account("acme")
    stop = asyncio.Event()
    engine = await idle_engine(node, stop)
    try:
        await node.store.enqueue(new_message(account.id, [f"now@{domain}"]))
        [received] = await rx.wait_for(1, timeout_s=20)
        assert list(received.rcpt_tos) == [f"now@{domain}"]
    finally:
        stop.set()
        await engine


async def test_retry_now_wakes_the_engine(
    make_node: NodeFactory, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    tries: list[str] = []

    def greylist_once(address: str) -> str | None:
        tries.append(address)
        return "451 4.7.1 greylisted, try again later" if len(tries) == 1 else None

    rx = await smtp_receiver("127.0.13.11", rcpt_handler=greylist_once)
    domain = mx_zone(test_dns, "wakeretry", (10, "127.0.13.11"))
    node = make_node(poll_interval_s=POLL_INTERVAL_S)
    await node.migrate()
    account = await node.store.ensure_account("acme")
    stop = asyncio.Event()
    engine = await idle_engine(node, stop)
    try:
        queued = await node.store.enqueue(new_message(account.id, [f"later@{domain}"]))
        async with asyncio.timeout(20):
            while not tries or not await _deferred(node, queued.message_id):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        # Deferred for minutes (the clock does not move): only retry-now brings it back.
        assert await node.store.retry_now(queued.message_id) == 1
        [received] = await rx.wait_for(1, timeout_s=20)
        assert list(received.rcpt_tos) == [f"later@{domain}"]
    finally:
        stop.set()
        await engine


async def _deferred(node: Node, message_id: str) -> bool:
    view = await node.store.get_message(message_id)
    assert view is not None
    return all(r.status is RecipientStatus.DEFERRED for r in view.recipients)
