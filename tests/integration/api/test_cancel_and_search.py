"""POST /v1/emails/{id}/cancel (counts, history kept, 404 for another account's) and
GET /v1/emails searched by sender, subject and Message-ID."""

from __future__ import annotations

import httpx

from postillon.queue.status import RecipientStatus
from tests.integration.api.conftest import World, client_for, email
from tests.integration.storage.builders import delivered

OWNER = "api-test"
LEASE_S = 60.0


async def _send(client: httpx.AsyncClient, body: dict[str, object]) -> str:
    answer = await client.post("/v1/emails", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def test_cancel_answers_the_counts_and_keeps_the_email(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    email_id = await _send(
        client, email(sender, to=["ada@a.example.test", "bob@b.example.test", "cy@c.example"])
    )
    # bob is being delivered right now (leased), cy was delivered already.
    jobs = await world.store.claim_due(OWNER, world.clock.now(), LEASE_S, 10)
    held = {r.address: r.id for job in jobs for r in job.recipients}
    await world.store.release_lease(OWNER, [held["ada@a.example.test"]])
    await world.store.record_outcomes(OWNER, [delivered(held["cy@c.example"], world.clock.now())])

    answer = await client.post(f"/v1/emails/{email_id}/cancel")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": email_id, "cancelled": 1, "in_flight": 1, "finished": 1}
    got = (await client.get(f"/v1/emails/{email_id}")).json()
    statuses = {r["address"]: r["status"] for r in got["recipients"]}
    assert statuses == {
        "ada@a.example.test": "cancelled",
        "bob@b.example.test": "queued",
        "cy@c.example": "delivered",
    }
    listed = (await client.get("/v1/emails", params={"status": "cancelled"})).json()
    assert [item["id"] for item in listed["data"]] == [email_id]
    events = await world.store.list_events(message_id=email_id)
    assert [e.payload["recipient"] for e in events if e.type == "email.cancelled"] == [
        "ada@a.example.test"
    ]


async def test_cancel_of_another_accounts_email_is_404_and_changes_nothing(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    email_id = await _send(client, email(sender))
    async with client_for(world.app(), await world.key("globex")) as globex:
        theirs = await globex.post(f"/v1/emails/{email_id}/cancel")
    unknown = await client.post("/v1/emails/no-such-id/cancel")

    assert theirs.status_code == 404
    assert theirs.json()["error"]["type"] == "not_found"
    assert unknown.status_code == 404
    view = await world.store.get_message(email_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.QUEUED


async def test_cancel_needs_a_key(world: World, sender: str) -> None:
    async with client_for(world.app()) as anonymous:
        answer = await anonymous.post("/v1/emails/anything/cancel")
    assert answer.status_code == 401


async def test_search_by_sender_subject_and_message_id(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    invoice = await _send(client, email(sender, subject="Invoice 100% paid"))
    world.clock.advance(1.0)
    news = await _send(client, email(sender, subject="Weekly news", **{"from": f"editor@{sender}"}))
    stored = await world.store.get_message(invoice)
    assert stored is not None
    header_id = stored.header_message_id

    async def ids(**params: str) -> list[str]:
        answer = await client.get("/v1/emails", params=params)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["data"]]

    assert await ids(subject="100%") == [invoice]
    assert await ids(subject="WEEKLY") == [news]
    assert await ids(sender="EDITOR@") == [news]
    assert await ids(sender=sender) == [news, invoice]
    assert await ids(message_id=header_id) == [invoice]
    assert await ids(message_id=header_id.strip("<>")) == [invoice]
    assert await ids(message_id="<nothing@here>") == []
    openapi = (await client.get("/openapi.json")).json()
    listed = {p["name"] for p in openapi["paths"]["/v1/emails"]["get"]["parameters"]}
    assert {"sender", "subject", "message_id"} <= listed
    assert "/v1/emails/{email_id}/cancel" in openapi["paths"]
