"""The engine end to end on one node: store -> claim -> MX -> real receivers -> store.

Real SQLite, real knot DNS, real aiosmtpd receivers on 127.0.0.14x:25. Time is a FakeClock, so
"4xx, then success after the backoff" takes no real minutes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from tests.integration.engine.conftest import NodeFactory, new_message
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(60)


def mx_zone(test_dns: TestDns, label: str, *hosts: tuple[int, str]) -> str:
    """Serve a domain whose MX records point at ``hosts`` (preference, address)."""
    origin = test_dns.new_origin(label)
    lines = []
    for index, (preference, address) in enumerate(hosts):
        lines.append(f"@ MX {preference} mx{index}")
        lines.append(f"mx{index} A {address}")
    test_dns.add_zone(origin, "\n".join(lines))
    return origin.rstrip(".")


async def test_delivers_and_records_the_attempt(
    make_node: NodeFactory, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    rx = await smtp_receiver("127.0.0.141")
    domain = mx_zone(test_dns, "deliver", (10, "127.0.0.141"))
    node = make_node()
    await node.migrate()
    account = await node.store.ensure_account("acme")
    rcpts = [f"user{i}@{domain}" for i in range(3)]
    queued = await node.store.enqueue(new_message(account.id, rcpts))

    await node.engine.run_until_idle()

    [received] = await rx.wait_for(1)
    assert sorted(received.rcpt_tos) == rcpts  # one transaction carries the whole domain
    assert b"X-Test-Id: t\r\n" in received.data
    view = await node.store.get_message(queued.message_id)
    assert view is not None
    assert {r.status for r in view.recipients} == {RecipientStatus.DELIVERED}
    attempt = view.recipients[0].attempt_log[0].record
    assert attempt.mx_host == f"mx0.{domain}"
    assert attempt.ip == "127.0.0.141"
    assert attempt.reply_code == 250
    assert attempt.tls_used is False
    assert attempt.transcript is not None
    assert "MAIL FROM:<bounces@postillon.test>" in attempt.transcript


async def test_4xx_is_deferred_then_delivered_after_backoff(
    make_node: NodeFactory,
    test_dns: TestDns,
    smtp_receiver: ReceiverFactory,
    clock: FakeClock,
) -> None:
    tries: list[str] = []

    def greylist(address: str) -> str | None:
        tries.append(address)
        return "451 4.7.1 greylisted, try again later" if len(tries) == 1 else None

    rx = await smtp_receiver("127.0.0.142", rcpt_handler=greylist)
    domain = mx_zone(test_dns, "grey", (10, "127.0.0.142"))
    node = make_node()
    await node.migrate()
    account = await node.store.ensure_account("acme")
    queued = await node.store.enqueue(new_message(account.id, [f"grey@{domain}"]))

    await node.engine.run_until_idle()
    view = await node.store.get_message(queued.message_id)
    assert view is not None
    [rcpt] = view.recipients
    assert rcpt.status is RecipientStatus.DEFERRED
    assert rcpt.next_attempt_at is not None
    assert rcpt.next_attempt_at > clock.now()
    assert rx.messages == []

    await node.engine.run_until_idle()  # nothing is due yet: no new try
    assert len(tries) == 1

    clock.advance(rcpt.next_attempt_at - clock.now() + timedelta(seconds=1))
    await node.engine.run_until_idle()
    await rx.wait_for(1)
    view = await node.store.get_message(queued.message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.DELIVERED
    assert view.recipients[0].attempts == 2


async def test_hard_bounce_suppresses_the_address(
    make_node: NodeFactory, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    def no_such_user(address: str) -> str | None:
        return "550 5.1.1 no such user" if address.startswith("gone@") else None

    rx = await smtp_receiver("127.0.0.143", rcpt_handler=no_such_user)
    domain = mx_zone(test_dns, "bounce", (10, "127.0.0.143"))
    node = make_node()
    await node.migrate()
    account = await node.store.ensure_account("acme")
    first = await node.store.enqueue(new_message(account.id, [f"gone@{domain}", f"ok@{domain}"]))
    await node.engine.run_until_idle()

    view = await node.store.get_message(first.message_id)
    assert view is not None
    statuses = {r.address: r.status for r in view.recipients}
    assert statuses == {
        f"gone@{domain}": RecipientStatus.BOUNCED,
        f"ok@{domain}": RecipientStatus.DELIVERED,
    }
    suppressed = await node.store.list_suppressions(account.id, limit=10)
    assert [s.address for s in suppressed] == [f"gone@{domain}"]

    connections_before = rx.connections
    second = await node.store.enqueue(new_message(account.id, [f"gone@{domain}"], tag="again"))
    await node.engine.run_until_idle()
    view = await node.store.get_message(second.message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.SUPPRESSED
    assert rx.connections == connections_before  # never attempted


async def test_null_mx_bounces_without_a_connection(
    make_node: NodeFactory, test_dns: TestDns
) -> None:
    origin = test_dns.new_origin("nullmx")
    test_dns.add_zone(origin, "@ MX 0 .")
    domain = origin.rstrip(".")
    node = make_node()
    await node.migrate()
    account = await node.store.ensure_account("acme")
    queued = await node.store.enqueue(new_message(account.id, [f"x@{domain}"]))
    await node.engine.run_until_idle()
    view = await node.store.get_message(queued.message_id)
    assert view is not None
    [rcpt] = view.recipients
    assert rcpt.status is RecipientStatus.BOUNCED
    assert rcpt.last_reply_code == 556
    assert rcpt.last_enhanced_code == "5.1.10"
    assert node.pool.stats.opened == 0


async def test_expired_after_queue_lifetime(
    make_node: NodeFactory, test_dns: TestDns, clock: FakeClock
) -> None:
    # An MX that never answers (nothing listens): deferred until the lifetime runs out.
    domain = mx_zone(test_dns, "dead", (10, "127.0.0.149"))
    node = make_node()
    await node.migrate()
    account = await node.store.ensure_account("acme")
    queued = await node.store.enqueue(new_message(account.id, [f"x@{domain}"]))
    for _ in range(30):  # bounded: a 1-day lifetime is reached well within 30 retries
        await node.engine.run_until_idle()
        view = await node.store.get_message(queued.message_id)
        assert view is not None
        rcpt = view.recipients[0]
        if rcpt.status is not RecipientStatus.DEFERRED:
            break
        assert rcpt.next_attempt_at is not None
        clock.advance(rcpt.next_attempt_at - clock.now() + timedelta(seconds=1))
    assert rcpt.status is RecipientStatus.EXPIRED
    assert rcpt.attempts > 2
