"""/v1/domains: add (records to publish), verify through the real test DNS, read, delete, and
another account's domain is 404."""

from __future__ import annotations

import httpx

from tests.integration.api.conftest import World, client_for, zone_text


async def test_add_returns_the_records_to_publish(client: httpx.AsyncClient, world: World) -> None:
    domain = world.test_dns.new_origin("add")
    answer = await client.post("/v1/domains", json={"name": domain})
    assert answer.status_code == 201, answer.text
    added = answer.json()
    assert added["name"] == domain
    assert added["status"] == "pending"
    by_purpose = {r["purpose"]: r for r in added["records"]}
    dkim = by_purpose["dkim"]
    assert dkim["type"] == "TXT"
    assert dkim["name"] == f"{added['selector']}._domainkey.{domain}"
    assert dkim["value"].startswith("v=DKIM1; k=rsa; p=")
    assert "".join(dkim["value_strings"]) == dkim["value"]
    assert all(len(s) <= 255 for s in dkim["value_strings"])
    assert by_purpose["spf"]["value"] == "v=spf1 ip4:127.0.0.191 -all"
    assert by_purpose["dmarc"]["name"] == f"_dmarc.{domain}"
    assert {r["status"] for r in added["records"]} == {"pending"}


async def test_verify_says_record_by_record_what_is_wrong_then_right(
    client: httpx.AsyncClient, world: World
) -> None:
    domain = world.test_dns.new_origin("verify")
    records = (await client.post("/v1/domains", json={"name": domain})).json()["records"]
    # Publish everything but the DKIM key.
    world.test_dns.add_zone(domain, zone_text([r for r in records if r["purpose"] != "dkim"]))
    failed = (await client.post(f"/v1/domains/{domain}/verify")).json()
    assert failed["status"] == "failed"
    statuses = {r["purpose"]: r["status"] for r in failed["records"]}
    assert statuses["dkim"] == "missing"
    assert statuses["spf"] == "verified"
    world.test_dns.add_zone(domain, zone_text(records))
    verified = (await client.post(f"/v1/domains/{domain}/verify")).json()
    assert verified["status"] == "verified"
    assert verified["verified_at"] is not None
    shown = (await client.get(f"/v1/domains/{domain}")).json()
    assert shown["status"] == "verified"
    listed = (await client.get("/v1/domains")).json()["data"]
    assert [d["name"] for d in listed] == [domain]


async def test_adding_twice_is_409_and_a_bad_name_422(
    client: httpx.AsyncClient, world: World
) -> None:
    domain = world.test_dns.new_origin("twice")
    assert (await client.post("/v1/domains", json={"name": domain})).status_code == 201
    again = await client.post("/v1/domains", json={"name": domain})
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "conflict"
    bad = await client.post("/v1/domains", json={"name": "not a domain"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "name"
    unknown = await client.post("/v1/domains", json={"name": domain, "dkim": "x"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"][0]["field"] == "dkim"


async def test_delete_then_gone(client: httpx.AsyncClient, world: World) -> None:
    domain = world.test_dns.new_origin("delete")
    await client.post("/v1/domains", json={"name": domain})
    assert (await client.delete(f"/v1/domains/{domain}")).status_code == 204
    assert (await client.get(f"/v1/domains/{domain}")).status_code == 404
    assert (await client.delete(f"/v1/domains/{domain}")).status_code == 404


async def test_another_accounts_domain_is_404_everywhere(
    client: httpx.AsyncClient, world: World
) -> None:
    domain = world.test_dns.new_origin("tenant")
    await client.post("/v1/domains", json={"name": domain})
    async with client_for(world.app(), await world.key("globex")) as globex:
        for method, path in [
            ("GET", f"/v1/domains/{domain}"),
            ("POST", f"/v1/domains/{domain}/verify"),
            ("POST", f"/v1/domains/{domain}/rotate-key"),
            ("DELETE", f"/v1/domains/{domain}"),
        ]:
            answer = await globex.request(method, path)
            assert answer.status_code == 404, (method, path)
            assert answer.json()["error"]["type"] == "not_found"
        assert (await globex.get("/v1/domains")).json() == {"data": []}
    # Still ours, untouched.
    assert (await client.get(f"/v1/domains/{domain}")).status_code == 200


async def test_a_path_name_that_is_no_domain_is_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/domains/not..a..domain")
    assert answer.status_code == 404
