"""POST /v1/emails and /v1/emails/batch end to end: stored, signed, idempotent, isolated."""

from __future__ import annotations

from typing import Any

import httpx

from postillon.queue.status import RecipientStatus
from postillon.storage.records import MessageFilter
from tests.integration.api.conftest import World, client_for, email


async def test_send_answers_202_after_the_message_is_stored(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    body = email(
        sender,
        to=["ada@example.test", {"email": "bob@example.test", "name": "Bob"}],
        tags=["welcome"],
        metadata={"order": "42"},
    )
    answer = await client.post("/v1/emails", json=body)
    assert answer.status_code == 202, answer.text
    sent = answer.json()
    assert sent["status"] == "queued"
    stored = await world.store.get_message(sent["id"], with_body=True)
    assert stored is not None
    assert sorted(r.address for r in stored.recipients) == ["ada@example.test", "bob@example.test"]
    assert stored.tags == ("welcome",)
    assert stored.body is not None
    assert stored.body.startswith(b"DKIM-Signature:")


async def test_a_single_recipient_string_and_a_list_are_the_same_send(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    one = await client.post("/v1/emails", json=email(sender, to="ada@example.test"))
    many = await client.post("/v1/emails", json=email(sender, to=["ada@example.test"]))
    assert one.status_code == many.status_code == 202
    for answer in (one, many):
        stored = await world.store.get_message(answer.json()["id"])
        assert stored is not None
        assert [r.address for r in stored.recipients] == ["ada@example.test"]


async def test_same_idempotency_key_and_body_answers_the_first_id(
    client: httpx.AsyncClient, sender: str
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await client.post("/v1/emails", json=email(sender), headers=headers)
    # The same JSON, spaced and ordered differently, is the same request.
    reordered = dict(reversed(list(email(sender).items())))
    again = await client.post("/v1/emails", json=reordered, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]


async def test_same_idempotency_key_with_another_body_is_409(
    client: httpx.AsyncClient, sender: str
) -> None:
    headers = {"Idempotency-Key": "order-43"}
    first = await client.post("/v1/emails", json=email(sender), headers=headers)
    assert first.status_code == 202
    other = await client.post("/v1/emails", json=email(sender, subject="Other"), headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["type"] == "idempotency_conflict"


async def test_idempotency_keys_belong_to_one_account(world: World, sender: str) -> None:
    headers = {"Idempotency-Key": "shared"}
    acme = client_for(world.app(), await world.key("acme"))
    async with acme:
        first = await acme.post("/v1/emails", json=email(sender), headers=headers)
        again = await acme.post("/v1/emails", json=email(sender), headers=headers)
    assert first.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    # Another account's use of the same key is its own, and refused for the domain anyway.
    async with client_for(world.app(), await world.key("globex")) as globex:
        theirs = await globex.post("/v1/emails", json=email(sender), headers=headers)
    assert theirs.status_code == 403


async def test_batch_sends_all_in_order(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    bodies = [email(sender, to=f"user{i}@example.test") for i in range(3)]
    answer = await client.post("/v1/emails/batch", json=bodies)
    assert answer.status_code == 202, answer.text
    ids = [item["id"] for item in answer.json()["data"]]
    assert len(set(ids)) == 3
    for i, message_id in enumerate(ids):
        stored = await world.store.get_message(message_id)
        assert stored is not None
        assert [r.address for r in stored.recipients] == [f"user{i}@example.test"]


async def test_a_batch_with_an_idempotency_key_answers_the_same_ids(
    client: httpx.AsyncClient, sender: str
) -> None:
    bodies = [email(sender, to=f"user{i}@example.test") for i in range(2)]
    headers = {"Idempotency-Key": "batch-1"}
    first = await client.post("/v1/emails/batch", json=bodies, headers=headers)
    again = await client.post("/v1/emails/batch", json=bodies, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    other = await client.post("/v1/emails/batch", json=bodies[:1], headers=headers)
    assert other.status_code == 409


async def test_batch_is_all_or_none(client: httpx.AsyncClient, world: World, sender: str) -> None:
    bodies: list[dict[str, Any]] = [email(sender), email(sender, to="not an address")]
    answer = await client.post("/v1/emails/batch", json=bodies)
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["[1].to"]
    account = await world.store.ensure_account("acme")
    page = await world.store.list_messages(MessageFilter(account_id=account.id), limit=10)
    assert page.items == ()


async def test_scheduled_send_is_scheduled(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    answer = await client.post(
        "/v1/emails", json=email(sender, scheduled_at="2026-12-24T18:00:00+01:00")
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "scheduled"
    stored = await world.store.get_message(answer.json()["id"])
    assert stored is not None
    assert stored.scheduled_at is not None
    assert stored.scheduled_at.isoformat() == "2026-12-24T17:00:00+00:00"
    assert stored.recipients[0].status is RecipientStatus.QUEUED
