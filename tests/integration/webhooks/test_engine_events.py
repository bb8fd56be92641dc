"""Events of real deliveries reach a real receiver, each with its details, in causal order.

A Node's engine delivers to real aiosmtpd MX hosts (127.0.0.208 with STARTTLS, 127.0.0.209 with
nothing listening) found through the real test DNS, exactly as tests/integration/engine does;
then the dispatcher sends every outbox event to a receiver on 127.0.0.200 that verifies each
with the ``standardwebhooks`` library. Time is a FakeClock moved past every backoff.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.storage.records import NewMessage, NewRecipient, OutboxEvent
from tests.integration.engine.conftest import engine_settings
from tests.integration.webhooks.harness import Hooks, build_hooks
from tests.integration.webhooks.hook_receiver import Delivery, HookReceiver, Reply
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(90)

MX_ADDRESS = "127.0.0.208"
DEAD_MX_ADDRESS = "127.0.0.209"  # nothing listens: every attempt is deferred, then expired
RECEIVER = "127.0.0.200"
# Bounds on the loops that move time forward (each ends far sooner).
MAX_ENGINE_ROUNDS = 40
MAX_DISPATCH_ROUNDS = 10


@pytest.fixture
async def node(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, clock: FakeClock
) -> AsyncIterator[Node]:
    started = Node(engine_settings(tmp_path / "queue.db", test_dns, pki), clock=clock)
    await started.migrate()
    yield started
    await started.close()


def mail(account_id: str, *rcpts: str) -> NewMessage:
    return NewMessage(
        account_id=account_id,
        mail_from="bounces@postillon.test",
        recipients=tuple(NewRecipient(r) for r in rcpts),
        body=b"From: s@postillon.test\r\nSubject: events\r\n\r\nHello.\r\n",
        subject="events",
        tags=("spring",),
        metadata={"campaign": "c-7"},
    )


async def run_engine_until_settled(node: Node, clock: FakeClock) -> None:
    """Deliver, then jump to each next attempt until no recipient waits any more."""
    for _ in range(MAX_ENGINE_ROUNDS):
        await node.engine.run_until_idle()
        waiting = await node.store.list_queue(limit=100)
        due = [r.next_attempt_at for r in waiting if r.next_attempt_at is not None]
        if not due:
            return
        clock.advance(max(timedelta(0), min(due) - clock.now()) + timedelta(seconds=1))
    raise AssertionError("the queue did not settle")


def chains(events: list[OutboxEvent]) -> dict[str, list[OutboxEvent]]:
    """The account's events per recipient id, in causal (seq) order."""
    by_recipient: dict[str, list[OutboxEvent]] = {}
    for event in sorted(events, key=lambda e: e.seq):
        by_recipient.setdefault(event.payload["recipient_id"], []).append(event)
    return by_recipient


def without_repeats(ids: list[str]) -> list[str]:
    """Retries of one event collapsed: ``a a b`` -> ``a b``."""
    return [x for i, x in enumerate(ids) if i == 0 or ids[i - 1] != x]


async def test_every_outcome_arrives_in_causal_order_with_its_details(
    node: Node, test_dns: TestDns, smtp_receiver: ReceiverFactory, pki: TestPki, clock: FakeClock
) -> None:
    origin = test_dns.new_origin("hookmx")
    domain = origin.rstrip(".")
    test_dns.add_zone(origin, f"@ MX 10 mx0\nmx0 A {MX_ADDRESS}")
    dead_origin = test_dns.new_origin("hookdead")
    test_dns.add_zone(dead_origin, f"@ MX 10 mx0\nmx0 A {DEAD_MX_ADDRESS}")
    ok, grey, gone = f"ok@{domain}", f"grey@{domain}", f"gone@{domain}"
    lost = f"x@{dead_origin.rstrip('.')}"
    greylisted: list[str] = []

    def rcpt(address: str) -> str | None:
        if address == grey and not greylisted:
            greylisted.append(address)
            return "451 4.7.1 greylisted, try again later"
        return "550 5.1.1 no such user here" if address == gone else None

    await smtp_receiver(
        MX_ADDRESS, tls_context=pki.server_context(f"mx0.{domain}"), rcpt_handler=rcpt
    )
    refused_once: list[str] = []

    def respond(delivery: Delivery, _before: int) -> Reply:
        # The receiver refuses grey's first event once: its later events must wait for it.
        data = delivery.payload["data"]
        if data["recipient"] == grey and not refused_once:
            refused_once.append(delivery.webhook_id)
            return Reply(503, b"not now")
        return Reply(204)

    hooks: Hooks = build_hooks(node.store, clock)
    account = await node.store.ensure_account("acme")
    async with HookReceiver(RECEIVER, respond) as receiver:
        created = await hooks.service.create(account.id, receiver.url())
        receiver.secrets.append(created.secret)
        first = await node.store.enqueue(mail(account.id, ok, grey, gone))
        await node.store.enqueue(mail(account.id, lost))
        await node.engine.run_until_idle()
        await node.store.enqueue(mail(account.id, gone))  # suppressed by the bounce
        await run_engine_until_settled(node, clock)

        events = await node.store.list_events(account_id=account.id, limit=1000)
        dispatcher = hooks.dispatcher()
        for _ in range(MAX_DISPATCH_ROUNDS):
            await dispatcher.run_until_idle()
            if {d.webhook_id for d in receiver.accepted} >= {e.id for e in events}:
                break
            clock.advance(timedelta(seconds=10))  # past the first retry step (5 s + jitter)

    assert receiver.rejected == []  # every request verified with the library
    assert {d.webhook_id for d in receiver.accepted} == {e.id for e in events}
    per_recipient = chains(events)
    arrivals: dict[str, list[str]] = {}
    for delivery in receiver.deliveries:
        arrivals.setdefault(delivery.payload["data"]["recipient_id"], []).append(
            delivery.webhook_id
        )
    for recipient_id, chain in per_recipient.items():
        # Event N+1 of a recipient never arrived before event N was accepted.
        assert without_repeats(arrivals[recipient_id]) == [e.id for e in chain]
    assert refused_once  # grey's first event was refused once, then retried in order

    types = {
        (chain[0].payload["recipient"], tuple(e.type for e in chain))
        for chain in per_recipient.values()
    }
    lost_chain = next(c for c in per_recipient.values() if c[0].payload["recipient"] == lost)
    deferrals = len(lost_chain) - 2
    assert deferrals >= 1
    assert types == {
        (ok, ("email.queued", "email.delivered")),
        (grey, ("email.queued", "email.deferred", "email.delivered")),
        (gone, ("email.queued", "email.bounced")),
        (gone, ("email.suppressed",)),
        (lost, ("email.queued", *["email.deferred"] * deferrals, "email.expired")),
    }

    received = {(d.payload["data"]["recipient"], d.payload["type"]): d for d in receiver.accepted}
    delivered: dict[str, Any] = received[ok, "email.delivered"].payload["data"]
    assert delivered["message_id"] == first.message_id
    assert delivered["attempt"] == 1
    assert delivered["mx_host"] == f"mx0.{domain}"
    assert delivered["ip"] == MX_ADDRESS
    assert delivered["reply"]["code"] == 250
    assert delivered["reply"]["text"]
    assert delivered["tls"]["used"] is True
    assert delivered["tls"]["verified"] is True
    assert str(delivered["tls"]["version"]).startswith("TLS")
    assert delivered["tls"]["cipher"]
    assert "mta_sts_mode" in delivered
    assert delivered["tags"] == ["spring"]
    assert delivered["metadata"] == {"campaign": "c-7"}
    assert delivered["possible_duplicate"] is False
    assert delivered["bounce_class"] is None

    grey_delivered = received[grey, "email.delivered"].payload["data"]
    assert grey_delivered["attempt"] == 2
    deferred = received[grey, "email.deferred"].payload["data"]
    assert (deferred["reply"]["code"], deferred["reply"]["enhanced_code"]) == (451, "4.7.1")
    assert "next_attempt_at" in deferred

    bounced = received[gone, "email.bounced"].payload["data"]
    assert (bounced["reply"]["code"], bounced["reply"]["enhanced_code"]) == (550, "5.1.1")
    assert "no such user" in bounced["reply"]["text"]
    assert bounced["bounce_class"]

    suppressed = received[gone, "email.suppressed"].payload["data"]
    assert suppressed["reason"]

    expired = received[lost, "email.expired"].payload["data"]
    assert expired["attempt"] == len(lost_chain) - 1
    assert expired["mx_host"] == f"mx0.{dead_origin.rstrip('.')}"
