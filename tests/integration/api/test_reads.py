"""GET /v1/emails/{id} (recipients and every attempt), GET /v1/emails (filters, cursor pages),
and tenant isolation: another account's ids are 404, never 403."""

from __future__ import annotations

from datetime import timedelta

import httpx

from postillon.queue.status import RecipientStatus
from postillon.storage.records import AttemptRecord, RecipientOutcome
from tests.integration.api.conftest import World, client_for, email

OWNER = "api-test"


async def _send(client: httpx.AsyncClient, body: dict[str, object]) -> str:
    answer = await client.post("/v1/emails", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def test_get_shows_each_recipient_and_every_attempt(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    email_id = await _send(client, email(sender, to=["ada@example.test", "bob@example.test"]))
    # Two attempts for ada (deferred, then delivered), as the engine records them.
    for status, code, enhanced, text in [
        (RecipientStatus.DEFERRED, 451, "4.7.1", "greylisted"),
        (RecipientStatus.DELIVERED, 250, "2.0.0", "OK queued as 77"),
    ]:
        jobs = await world.store.claim_due(OWNER, world.clock.now(), 60.0, 10)
        ada = next(r for job in jobs for r in job.recipients if r.address == "ada@example.test")
        attempt = AttemptRecord(
            started_at=world.clock.now(),
            duration_ms=84,
            reply_code=code,
            enhanced_code=enhanced,
            reply_text=text,
            mx_host="mx1.example.test",
            ip="192.0.2.25",
            tls_used=True,
            tls_version="TLSv1.3",
            tls_cipher="TLS_AES_256_GCM_SHA384",
            tls_verified=True,
            mta_sts_mode="enforce",
            mta_sts_policy_id="20261129T000000",
            tls_policy="mta-sts-enforce",
            tls_refusal="MTA-STS enforce (policy id 20261129T000000): no TLS"
            if code == 451
            else None,
        )
        next_at = world.clock.now() + timedelta(minutes=5)
        outcome = RecipientOutcome(
            recipient_id=ada.id,
            status=status,
            attempt=attempt,
            next_attempt_at=next_at if status is RecipientStatus.DEFERRED else None,
        )
        await world.store.record_outcomes(OWNER, [outcome])
        world.clock.advance(timedelta(minutes=6))

    answer = await client.get(f"/v1/emails/{email_id}")
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["id"] == email_id
    assert got["from"] == f"news@{sender}"
    assert got["subject"] == "Hello"
    by_address = {r["address"]: r for r in got["recipients"]}
    ada_view = by_address["ada@example.test"]
    assert ada_view["status"] == "delivered"
    assert ada_view["attempt_count"] == 2
    assert ada_view["last_reply"] == {
        "code": 250,
        "enhanced_code": "2.0.0",
        "text": "OK queued as 77",
    }
    first, second = ada_view["attempts"]
    assert (first["number"], second["number"]) == (1, 2)
    assert first["reply"] == {"code": 451, "enhanced_code": "4.7.1", "text": "greylisted"}
    assert second["mx_host"] == "mx1.example.test"
    assert second["ip"] == "192.0.2.25"
    assert second["duration_ms"] == 84
    assert second["tls"] == {
        "used": True,
        "version": "TLSv1.3",
        "cipher": "TLS_AES_256_GCM_SHA384",
        "verified": True,
        "reason": None,
        "policy": "mta-sts-enforce",
        "dane_tlsa": None,
        "refusal": None,
        "result": None,
    }
    assert first["tls"]["refusal"] == "MTA-STS enforce (policy id 20261129T000000): no TLS"
    assert second["mta_sts"] == {"mode": "enforce", "policy_id": "20261129T000000"}
    assert by_address["bob@example.test"]["attempts"] == []


async def test_listing_pages_with_a_cursor_newest_first(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    sent = []
    for i in range(5):
        sent.append(await _send(client, email(sender, subject=f"n{i}")))
        world.clock.advance(1.0)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/emails", params=params)).json()
        seen += [item["id"] for item in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(sent))


async def test_listing_filters(client: httpx.AsyncClient, world: World, sender: str) -> None:
    early = await _send(client, email(sender, to="ada@example.test", tags=["welcome"]))
    world.clock.advance(timedelta(hours=1))
    middle = world.clock.now()
    late = await _send(client, email(sender, to="bob@example.test", tags=["receipt"]))

    async def ids(**params: str) -> list[str]:
        answer = await client.get("/v1/emails", params=params)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["data"]]

    assert await ids(tag="welcome") == [early]
    assert await ids(recipient="bob@example.test") == [late]
    assert await ids(status="queued") == [late, early]
    assert await ids(status="delivered") == []
    assert await ids(created_after=middle.isoformat()) == [late]
    assert await ids(created_before=middle.isoformat()) == [early]


async def test_bad_listing_parameters_are_422_naming_them(client: httpx.AsyncClient) -> None:
    for params, field in [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"status": "lost"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ]:
        answer = await client.get("/v1/emails", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert [f["field"] for f in answer.json()["error"]["fields"]] == [field]


async def test_another_accounts_email_is_404_and_never_listed(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    email_id = await _send(client, email(sender))
    async with client_for(world.app(), await world.key("globex")) as globex:
        theirs = await globex.get(f"/v1/emails/{email_id}")
        listed = await globex.get("/v1/emails")
    assert theirs.status_code == 404
    assert theirs.json()["error"]["type"] == "not_found"
    assert listed.json() == {"data": [], "next_cursor": None}
    unknown = await client.get("/v1/emails/no-such-id")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == theirs.json()["error"]["message"].replace(
        email_id, "no-such-id"
    )
