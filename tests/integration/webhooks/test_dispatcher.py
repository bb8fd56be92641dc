"""The dispatcher against real receivers: retries, Retry-After, 410, restarts, two nodes.

Real store (SQLite file and PostgreSQL), real HTTP receivers on 127.0.0.200-207 verifying every
request with the ``standardwebhooks`` library; time is a FakeClock moved past each retry.
Events come from real enqueues (``email.queued``, one per recipient).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.storage.records import NewMessage, NewRecipient, RecipientOutcome
from postillon.storage.webhook_records import DeliveryState
from postillon.webhooks.endpoints import wants
from postillon.webhooks.retry import RetryPolicy
from tests.integration.webhooks.harness import Hooks
from tests.integration.webhooks.hook_receiver import Delivery, HookReceiver, Reply

pytestmark = pytest.mark.timeout(60)


def message(account_id: str, *rcpts: str) -> NewMessage:
    return NewMessage(
        account_id=account_id,
        mail_from="bounces@postillon.test",
        recipients=tuple(NewRecipient(r) for r in rcpts),
        body=b"Subject: hi\r\n\r\nhello\r\n",
        subject="hi",
        tags=("welcome",),
        metadata={"user": "42"},
    )


async def registered(hooks: Hooks, receiver: HookReceiver, account_id: str) -> str:
    created = await hooks.service.create(account_id, receiver.url())
    receiver.secrets.append(created.secret)
    return created.endpoint.id


async def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(
    hooks: Hooks, clock: FakeClock
) -> None:
    def flaky(_delivery: Delivery, before: int) -> Reply:
        if before == 1:  # the second answer asks for ten minutes, more than the 5-minute step
            return Reply(503, b"busy", {"Retry-After": "600"})
        return Reply(503, b"down") if before < 3 else Reply(200, b"ok")

    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.200", flaky) as receiver:
        endpoint_id = await registered(hooks, receiver, account.id)
        queued = await hooks.store.enqueue(message(account.id, "bob@example.org"))
        await hooks.dispatcher().run_until_idle()
        assert len(receiver.deliveries) == 1
        # Each retry by a new dispatcher: the schedule lives in the store and survives restarts.
        clock.advance(timedelta(seconds=6))  # 5 s (+ at most 10 % jitter)
        await hooks.dispatcher("node-b").run_until_idle()
        assert len(receiver.deliveries) == 2
        clock.advance(timedelta(minutes=5, seconds=31))  # the table's step: too early
        await hooks.dispatcher("node-c").run_until_idle()
        assert len(receiver.deliveries) == 2
        clock.advance(timedelta(minutes=5))  # past the receiver's 600 s
        await hooks.dispatcher("node-c").run_until_idle()
        assert len(receiver.deliveries) == 3
        clock.advance(timedelta(minutes=34))  # 30 min (+10 %)
        await hooks.dispatcher("node-d").run_until_idle()

    assert [d.status for d in receiver.deliveries] == [503, 503, 503, 200]
    assert len({d.webhook_id for d in receiver.deliveries}) == 1  # one event, one webhook-id
    assert len({d.headers["webhook-timestamp"] for d in receiver.deliveries}) == 4  # re-signed
    payload = receiver.accepted[0].payload
    assert payload["type"] == "email.queued"
    assert payload["data"]["message_id"] == queued.message_id
    assert payload["data"]["recipient"] == "bob@example.org"
    log = await hooks.service.delivery_log(account.id, endpoint_id)
    assert [(e.attempt, e.status, e.verdict) for e in reversed(log)] == [
        (1, 503, "retry"),
        (2, 503, "retry"),
        (3, 503, "retry"),
        (4, 200, "delivered"),
    ]
    assert log[0].response_snippet == "ok"
    assert log[1].response_snippet == "down"
    state = await hooks.deliveries.state_of(endpoint_id, log[0].event_id)
    assert state == (DeliveryState.DELIVERED, 4)
    view = await hooks.service.get(account.id, endpoint_id)
    assert (view.enabled, view.consecutive_failures, view.failing_since) == (True, 0, None)


async def test_410_disables_the_endpoint_and_says_why(hooks: Hooks, clock: FakeClock) -> None:
    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.201", lambda _d, _n: Reply(410)) as receiver:
        endpoint_id = await registered(hooks, receiver, account.id)
        await hooks.store.enqueue(message(account.id, "a@example.org"))
        await hooks.dispatcher().run_until_idle()
        view = await hooks.service.get(account.id, endpoint_id)
        assert not view.enabled
        assert view.disabled_reason is not None
        assert "410" in view.disabled_reason

        await hooks.store.enqueue(message(account.id, "c@example.org"))  # no longer wanted
        clock.advance(timedelta(days=1))
        await hooks.dispatcher().run_until_idle()

    assert len(receiver.deliveries) == 1  # the later event is not queued for it
    log = await hooks.service.delivery_log(account.id, endpoint_id)
    assert [(e.status, e.verdict) for e in log] == [(410, "disable_endpoint")]


async def test_prolonged_failure_disables_the_endpoint(hooks: Hooks, clock: FakeClock) -> None:
    policy = RetryPolicy(
        delays=(timedelta(hours=1),) * 5, disable_after=timedelta(hours=3), disable_min_failures=4
    )
    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.202", lambda _d, _n: Reply(500)) as receiver:
        endpoint_id = await registered(hooks, receiver, account.id)
        await hooks.store.enqueue(message(account.id, "a@example.org"))
        for _ in range(6):  # bounded: the endpoint is disabled at the fourth failure
            await hooks.dispatcher(policy=policy).run_until_idle()
            clock.advance(timedelta(hours=1, minutes=7))

    view = await hooks.service.get(account.id, endpoint_id)
    assert not view.enabled
    assert view.disabled_reason is not None
    assert "4 consecutive attempts failed" in view.disabled_reason
    assert len(receiver.deliveries) == 4


async def test_two_nodes_send_each_event_once(hooks: Hooks) -> None:
    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.203") as receiver:
        await registered(hooks, receiver, account.id)
        for index in range(5):
            rcpts = [f"u{index}-{n}@example.org" for n in range(4)]
            await hooks.store.enqueue(message(account.id, *rcpts))
        stop = asyncio.Event()
        nodes = [hooks.dispatcher("node-a"), hooks.dispatcher("node-b")]
        tasks = [asyncio.create_task(node.run(stop)) for node in nodes]
        for _ in range(400):  # bounded wait for all 20 events (polled, never timed)
            if len(receiver.deliveries) >= 20:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.gather(*tasks)

    ids = [d.webhook_id for d in receiver.deliveries]
    assert len(ids) == 20
    assert len(set(ids)) == 20
    assert sum(node.attempts_made for node in nodes) == 20


async def test_only_subscribed_types_are_sent(hooks: Hooks) -> None:
    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.204") as receiver:
        created = await hooks.service.create(account.id, receiver.url(), ["email.delivered"])
        receiver.secrets.append(created.secret)
        await hooks.store.enqueue(message(account.id, "a@example.org"))  # email.queued
        await hooks.dispatcher().run_until_idle()

    assert receiver.deliveries == []
    log = await hooks.service.delivery_log(account.id, created.endpoint.id)
    assert log == []


async def test_a_later_event_waits_for_an_earlier_one_still_in_the_outbox(
    hooks: Hooks, clock: FakeClock
) -> None:
    # Two nodes fan out two batches; the one holding the later event commits first. The later
    # event must not go out before the earlier one is fanned out and delivered.
    account = await hooks.store.ensure_account("acme")
    endpoint = await hooks.service.create(account.id, "http://127.0.0.205:9/never-called")
    queued = await hooks.store.enqueue(message(account.id, "a@example.org"))
    (recipient,) = queued.recipients
    await hooks.store.record_outcomes(
        "engine",
        [
            RecipientOutcome(
                recipient.id, RecipientStatus.DEFERRED, None, clock.now() + timedelta(hours=1)
            )
        ],
    )
    first, later = await hooks.store.list_events(account_id=account.id)
    assert (first.type, later.type) == ("email.queued", "email.deferred")

    await hooks.deliveries.fan_out([later], wants, clock.now())
    assert await hooks.deliveries.claim_due("node-a", clock.now(), 60, 10) == []

    await hooks.deliveries.fan_out([first], wants, clock.now())
    claimed = await hooks.deliveries.claim_due("node-a", clock.now(), 60, 10)
    assert [(c.endpoint.id, c.event_id) for c in claimed] == [(endpoint.endpoint.id, first.id)]
