"""The endpoint service: registration behind the SSRF guard, secrets, rotation, test, replay.

Real store (SQLite file and PostgreSQL), real receivers on 127.0.0.200-207. The clock starts at
the real time, so the receivers can also check signatures with ``standardwebhooks``' own
``Webhook.verify`` (which compares webhook-timestamp with the real clock).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from postillon.clock import FakeClock
from postillon.events import EventType
from postillon.storage.records import NewMessage, NewRecipient
from postillon.storage.schema import webhook_endpoints
from postillon.webhooks.endpoint_errors import (
    EndpointNotFoundError,
    EventNotFoundError,
    TooManyEndpointsError,
)
from postillon.webhooks.errors import InvalidFilterError, UnsafeTargetError
from postillon.webhooks.filters import EventFilter
from postillon.webhooks.secret import parse_secret
from postillon.webhooks.service import MAX_ENDPOINTS_PER_ACCOUNT
from tests.integration.webhooks.harness import Hooks
from tests.integration.webhooks.hook_receiver import HookReceiver

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


def message(account_id: str, rcpt: str) -> NewMessage:
    return NewMessage(
        account_id=account_id,
        mail_from="bounces@postillon.test",
        recipients=(NewRecipient(rcpt),),
        body=b"Subject: hi\r\n\r\nhello\r\n",
        subject="hi",
    )


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:8025/hook", id="loopback"),
        pytest.param("http://10.0.0.7/hook", id="private"),
        pytest.param("http://169.254.169.254/latest", id="metadata"),
        pytest.param("http://[::ffff:127.0.0.200]/hook", id="ipv4-mapped"),
        pytest.param("http://2130706632/hook", id="decimal-ipv4"),
        pytest.param("http://localhost/hook", id="localhost"),
        pytest.param("ftp://127.0.0.200/hook", id="scheme"),
    ],
)
async def test_registration_refuses_unsafe_urls(hooks: Hooks, url: str) -> None:
    account = await hooks.store.ensure_account("acme")

    with pytest.raises(UnsafeTargetError):
        await hooks.service.create(account.id, url)

    assert await hooks.service.list(account.id) == []


async def test_an_endpoint_is_created_listed_changed_and_deleted(hooks: Hooks) -> None:
    account = await hooks.store.ensure_account("acme")
    other = await hooks.store.ensure_account("other")
    created = await hooks.service.create(account.id, "http://127.0.0.205:9/a", ["email.bounced"])

    assert parse_secret(created.secret).key  # a whsec_ secret, shown once
    assert created.endpoint.event_filter == EventFilter(frozenset({EventType.EMAIL_BOUNCED}))
    assert [e.id for e in await hooks.service.list(account.id)] == [created.endpoint.id]
    assert await hooks.service.list(other.id) == []
    with pytest.raises(EndpointNotFoundError):
        await hooks.service.get(other.id, created.endpoint.id)  # another account's: not found

    changed = await hooks.service.update(
        account.id, created.endpoint.id, url="http://127.0.0.205:9/b", event_filter="*"
    )
    assert (changed.url, changed.event_filter) == ("http://127.0.0.205:9/b", EventFilter())
    with pytest.raises(UnsafeTargetError):
        await hooks.service.update(account.id, created.endpoint.id, url="http://127.0.0.1/")
    with pytest.raises(InvalidFilterError):
        await hooks.service.update(account.id, created.endpoint.id, event_filter=["email.nope"])
    disabled = await hooks.service.update(account.id, created.endpoint.id, enabled=False)
    assert (disabled.enabled, disabled.disabled_reason) == (False, "disabled by request")
    enabled = await hooks.service.update(account.id, created.endpoint.id, enabled=True)
    assert (enabled.enabled, enabled.disabled_reason) == (True, None)

    await hooks.service.delete(account.id, created.endpoint.id)
    assert await hooks.service.list(account.id) == []
    with pytest.raises(EndpointNotFoundError):
        await hooks.service.delete(account.id, created.endpoint.id)


async def test_the_secret_is_stored_sealed(hooks: Hooks) -> None:
    account = await hooks.store.ensure_account("acme")
    created = await hooks.service.create(account.id, "http://127.0.0.205:9/a")
    key = parse_secret(created.secret).key

    async with hooks.store.writer.connect() as connection:
        (sealed,) = (await connection.execute(sa.select(webhook_endpoints.c.sealed_secret))).one()

    assert key not in sealed
    assert created.secret.encode() not in sealed
    assert "whsec" not in repr(await hooks.endpoints.get(account.id, created.endpoint.id))


async def test_a_test_event_is_signed_sent_and_logged(hooks: Hooks) -> None:
    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.205") as receiver:
        created = await hooks.service.create(account.id, receiver.url())
        receiver.secrets.append(created.secret)
        result = await hooks.service.send_test(account.id, created.endpoint.id)

    assert result.is_success
    (delivery,) = receiver.deliveries
    data = Webhook(created.secret).verify(delivery.body, delivery.headers)  # the library's own
    assert data["type"] == "email.delivered"
    assert data["data"]["test"] is True
    (entry,) = await hooks.service.delivery_log(account.id, created.endpoint.id)
    assert (entry.event_id, entry.status, entry.verdict) == (delivery.webhook_id, 204, "test")


async def test_replay_sends_the_same_event_again(hooks: Hooks) -> None:
    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.206") as receiver:
        created = await hooks.service.create(account.id, receiver.url())
        receiver.secrets.append(created.secret)
        await hooks.store.enqueue(message(account.id, "a@example.org"))
        await hooks.dispatcher().run_until_idle()
        (first,) = receiver.deliveries

        await hooks.service.replay(account.id, created.endpoint.id, first.webhook_id)
        await hooks.dispatcher().run_until_idle()
        with pytest.raises(EventNotFoundError):
            await hooks.service.replay(account.id, created.endpoint.id, "evt_nope")

    first_again = receiver.deliveries[1]
    assert len(receiver.deliveries) == 2
    assert first_again.webhook_id == first.webhook_id
    assert first_again.body == first.body
    Webhook(created.secret).verify(first_again.body, first_again.headers)


async def test_both_secrets_sign_during_the_rotation_overlap(
    hooks: Hooks, clock: FakeClock
) -> None:
    account = await hooks.store.ensure_account("acme")
    async with HookReceiver("127.0.0.207") as receiver:
        created = await hooks.service.create(account.id, receiver.url())
        receiver.secrets.append(created.secret)
        rotated = await hooks.service.rotate_secret(
            account.id, created.endpoint.id, overlap=timedelta(hours=24)
        )
        receiver.secrets.append(rotated.secret)
        assert rotated.secret != created.secret
        assert rotated.endpoint.previous_secret_until == clock.now() + timedelta(hours=24)

        await hooks.store.enqueue(message(account.id, "a@example.org"))
        await hooks.dispatcher().run_until_idle()
        clock.advance(timedelta(hours=24))  # the overlap is over
        await hooks.store.enqueue(message(account.id, "b@example.org"))
        await hooks.dispatcher().run_until_idle()

    during, after = receiver.deliveries
    assert during.verified_by == (0, 1)  # old and new secret both verify
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.verified_by == (1,)  # only the new one
    assert receiver.rejected == []
    view = await hooks.service.get(account.id, created.endpoint.id)
    assert view.previous_secret_until is None


async def test_an_account_has_at_most_the_capped_number_of_endpoints_even_concurrently(
    hooks: Hooks,
) -> None:
    account = await hooks.store.ensure_account("acme")
    other = await hooks.store.ensure_account("other")
    attempts = MAX_ENDPOINTS_PER_ACCOUNT + 5
    results = await asyncio.gather(
        *(hooks.service.create(account.id, f"http://127.0.0.205:9/{i}") for i in range(attempts)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 5
    assert all(isinstance(r, TooManyEndpointsError) for r in refused), refused
    assert "at most 20 webhook endpoints" in str(refused[0])
    assert len(await hooks.service.list(account.id)) == MAX_ENDPOINTS_PER_ACCOUNT
    # The cap is per account, and deleting one makes room again.
    await hooks.service.create(other.id, "http://127.0.0.205:9/other")
    first = (await hooks.service.list(account.id))[0]
    await hooks.service.delete(account.id, first.id)
    await hooks.service.create(account.id, "http://127.0.0.205:9/again")
