"""A scheduled message has its whole queue lifetime after its schedule, not from creation.

The test node's lifetime is one day (``engine_settings``); a message scheduled two days ahead
meets a 4xx on its first try and must be deferred, not expired. Loopback 127.0.17.4 is this
test's MX.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from tests.integration.engine.conftest import NodeFactory, new_message
from tests.integration.engine.test_engine import mx_zone
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(60)


async def test_a_4xx_on_the_first_try_of_a_scheduled_message_defers_it(
    make_node: NodeFactory, test_dns: TestDns, smtp_receiver: ReceiverFactory, clock: FakeClock
) -> None:
    def greylist(address: str) -> str | None:
        return "451 4.7.1 greylisted, try again later"

    await smtp_receiver("127.0.17.4", rcpt_handler=greylist)
    domain = mx_zone(test_dns, "later", (10, "127.0.17.4"))
    node = make_node()
    await node.migrate()
    assert node.settings.retry.max_lifetime_s == 86400
    account = await node.store.ensure_account("acme")
    ahead = timedelta(days=2)
    message = dataclasses.replace(
        new_message(account.id, [f"later@{domain}"]), scheduled_at=clock.now() + ahead
    )
    queued = await node.store.enqueue(message)
    clock.advance(ahead + timedelta(seconds=1))
    await node.engine.run_until_idle()
    view = await node.store.get_message(queued.message_id)
    assert view is not None
    [rcpt] = view.recipients
    assert rcpt.attempts == 1
    assert rcpt.status is RecipientStatus.DEFERRED
    assert rcpt.next_attempt_at is not None

    # The lifetime still ends: one day after the schedule the next 4xx expires it.
    clock.advance(timedelta(days=1))
    await node.engine.run_until_idle()
    view = await node.store.get_message(queued.message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.EXPIRED
