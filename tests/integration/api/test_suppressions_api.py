"""GET /v1/suppressions: the account's addresses with their reasons, paged, searched, isolated."""

from __future__ import annotations

import httpx

from tests.integration.api.conftest import World, client_for


async def test_suppressions_list_with_reasons(client: httpx.AsyncClient, world: World) -> None:
    account = await world.store.ensure_account("acme")
    other = await world.store.ensure_account("globex")
    for address, reason in (
        ("b@x.test", "bounce"),
        ("c@x.test", "complaint"),
        ("u@x.test", "unsubscribe"),
        ("m@x.test", "manual"),
    ):
        await world.store.suppress(account.id, address, reason)
    await world.store.suppress(other.id, "theirs@x.test", "bounce")

    first = await client.get("/v1/suppressions", params={"limit": 3})
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["data"]) == 3
    rest = await client.get("/v1/suppressions", params={"cursor": body["next_cursor"]})
    rows = body["data"] + rest.json()["data"]
    assert rest.json()["next_cursor"] is None
    assert {(r["address"], r["reason"]) for r in rows} == {
        ("b@x.test", "bounce"),
        ("c@x.test", "complaint"),
        ("u@x.test", "unsubscribe"),
        ("m@x.test", "manual"),
    }
    searched = await client.get("/v1/suppressions", params={"q": "C@X"})
    assert [r["address"] for r in searched.json()["data"]] == ["c@x.test"]


async def test_bad_cursor_is_422_and_no_key_is_401(client: httpx.AsyncClient, world: World) -> None:
    answer = await client.get("/v1/suppressions", params={"cursor": "!!"})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "cursor"
    async with client_for(world.app()) as anonymous:
        assert (await anonymous.get("/v1/suppressions")).status_code == 401
