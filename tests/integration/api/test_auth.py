"""Who may call: API keys (missing, malformed, unknown, revoked) and the per-key rate limit."""

from __future__ import annotations

import httpx
import pytest

from postillon.api.rate_limit import RateLimit
from tests.integration.api.conftest import World, client_for


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Basic YWRhOnB3", id="not-bearer"),
        pytest.param("Bearer ", id="empty"),
        pytest.param("Bearer pst_" + "A" * 43, id="unknown"),
        pytest.param("Bearer sk_live_123", id="not-ours"),
        pytest.param("Bearer pst_" + "A" * 500, id="oversized"),
    ],
)
async def test_without_a_valid_key_every_route_is_401(
    world: World, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with client_for(world.app()) as client:
        for method, path in [
            ("GET", "/v1/emails"),
            ("GET", "/v1/emails/anything"),
            ("POST", "/v1/emails"),
            ("GET", "/v1/domains"),
        ]:
            answer = await client.request(method, path, headers=headers, json={})
            assert answer.status_code == 401, (method, path)
            assert answer.headers["WWW-Authenticate"] == "Bearer"
            error = answer.json()["error"]
            assert error["type"] == "unauthorized"
            assert error["fields"] == []


async def test_a_revoked_key_is_refused_at_once(world: World) -> None:
    info, token = await world.services.keys.create("acme")
    async with client_for(world.app(), token) as client:
        assert (await client.get("/v1/emails")).status_code == 200
        assert await world.services.keys.revoke(info.account_id, info.id)
        answer = await client.get("/v1/emails")
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "unauthorized"


async def test_another_key_of_the_account_still_works_after_a_revocation(world: World) -> None:
    info, _ = await world.services.keys.create("acme")
    kept = await world.key("acme")
    await world.services.keys.revoke(info.account_id, info.id)
    async with client_for(world.app(), kept) as client:
        assert (await client.get("/v1/emails")).status_code == 200


async def test_rate_limit_is_429_with_retry_after_and_refills(world: World) -> None:
    app = world.app(RateLimit(rate_per_s=0.5, burst=3))
    async with client_for(app, await world.key("acme")) as client:
        for _ in range(3):
            assert (await client.get("/v1/domains")).status_code == 200
        limited = await client.get("/v1/domains")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "2"  # one token at 0.5/s
        assert limited.json()["error"]["type"] == "rate_limited"
        world.clock.advance(2.0)
        assert (await client.get("/v1/domains")).status_code == 200
        assert (await client.get("/v1/domains")).status_code == 429


async def test_rate_limits_are_per_key(world: World) -> None:
    app = world.app(RateLimit(rate_per_s=0.1, burst=1))
    async with client_for(app, await world.key("acme")) as first:
        assert (await first.get("/v1/domains")).status_code == 200
        assert (await first.get("/v1/domains")).status_code == 429
    async with client_for(app, await world.key("acme")) as second:
        assert (await second.get("/v1/domains")).status_code == 200


async def test_unknown_routes_and_methods_use_the_error_shape(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"
    wrong = await client.put("/v1/emails")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["type"] == "method_not_allowed"
    assert "Allow" in wrong.headers
