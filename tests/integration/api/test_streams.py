"""Message streams on the API: ``"stream"`` on POST /v1/emails (default transactional), shown
on GET, filterable on the list, a precise 422 for an unknown one, and the claim order it sets."""

from __future__ import annotations

import httpx

from postillon.queue.stream import Stream
from tests.integration.api.conftest import World, email

OWNER = "api-test"


async def _send(client: httpx.AsyncClient, body: dict[str, object]) -> str:
    answer = await client.post("/v1/emails", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def test_the_stream_is_kept_shown_and_filtered(
    client: httpx.AsyncClient, sender: str
) -> None:
    plain = await _send(client, email(sender))
    news = await _send(client, email(sender, stream="broadcast"))
    reset = await _send(client, email(sender, stream="transactional"))

    assert (await client.get(f"/v1/emails/{plain}")).json()["stream"] == "transactional"
    assert (await client.get(f"/v1/emails/{news}")).json()["stream"] == "broadcast"
    broadcast = (await client.get("/v1/emails", params={"stream": "broadcast"})).json()
    transactional = (await client.get("/v1/emails", params={"stream": "transactional"})).json()
    assert [item["id"] for item in broadcast["data"]] == [news]
    assert {item["id"] for item in transactional["data"]} == {plain, reset}


async def test_an_unknown_stream_is_refused_naming_the_field(
    client: httpx.AsyncClient, sender: str
) -> None:
    answer = await client.post("/v1/emails", json=email(sender, stream="marketing"))

    assert answer.status_code == 422
    assert "stream" in answer.text
    listed = await client.get("/v1/emails", params={"stream": "marketing"})
    assert listed.status_code == 422
    assert "stream" in listed.text


async def test_a_batchs_transactional_message_is_claimed_before_its_broadcast(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    batch = [email(sender, to=f"n{n}@example.test", stream="broadcast") for n in range(5)]
    batch.append(email(sender, to="reset@example.test"))
    answer = await client.post("/v1/emails/batch", json=batch)
    assert answer.status_code == 202, answer.text
    reset_id = answer.json()["data"][-1]["id"]

    [job] = await world.store.claim_due(OWNER, world.clock.now(), 60.0, 1)

    assert job.message_id == reset_id
    assert job.stream_rank == Stream.TRANSACTIONAL.rank
