"""Sign-in throttling hands out no lockouts: failures count per client address (and per address
and email), so someone typing a user's email elsewhere cannot lock them out; behind a trusted
proxy each forwarded client counts alone, and a client cannot forge its address. Clients
connect from 127.0.17.6-8; the node listens on 127.0.17.5."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from postillon.config.settings import ApiSettings
from tests.e2e.dashboard.conftest import Served, serve_node
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)

ATTACKER, USER, PROXY = "127.0.17.6", "127.0.17.7", "127.0.17.8"
PASSWORD = "correct horse battery"
ANN = {"email": "ann@example.com", "password": PASSWORD}
WRONG = {"email": "ann@example.com", "password": "wrong guess"}


def client_from(served: Served, address: str, **headers: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(
        base_url=served.base_url, transport=transport, headers=headers, timeout=15.0
    )


@pytest.fixture
async def node(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[Served]:
    api = ApiSettings(listen="127.0.17.5:0", trusted_proxies=(PROXY,))
    async with serve_node(tmp_path, test_dns, api=api) as opened:
        await opened.node.services.users.add(opened.account, "ann@example.com", PASSWORD)
        yield opened


async def fail_until_throttled(client: httpx.AsyncClient, attempts: int) -> list[int]:
    return [(await client.post("/sign-in", data=WRONG)).status_code for _ in range(attempts + 1)]


async def test_failures_elsewhere_do_not_lock_the_user_out(node: Served) -> None:
    attempts = node.node.settings.dashboard.sign_in_attempts
    async with client_from(node, ATTACKER) as attacker, client_from(node, USER) as user:
        statuses = await fail_until_throttled(attacker, attempts)
        assert statuses == [401] * attempts + [429]
        assert (await attacker.post("/sign-in", data=ANN)).status_code == 429
        assert (await user.post("/sign-in", data=ANN)).status_code == 303


async def test_behind_a_trusted_proxy_each_client_counts_alone(node: Served) -> None:
    attempts = node.node.settings.dashboard.sign_in_attempts
    async with (
        client_from(node, PROXY, **{"X-Forwarded-For": "198.51.100.9"}) as guesser,
        client_from(node, PROXY, **{"X-Forwarded-For": "198.51.100.10"}) as ann,
    ):
        assert (await fail_until_throttled(guesser, attempts))[-1] == 429
        assert (await ann.post("/sign-in", data=ANN)).status_code == 303


async def test_an_untrusted_client_cannot_forge_its_address(node: Served) -> None:
    attempts = node.node.settings.dashboard.sign_in_attempts
    async with client_from(node, ATTACKER) as attacker:
        statuses = []
        for index in range(attempts + 1):
            answer = await attacker.post(
                "/sign-in", data=WRONG, headers={"X-Forwarded-For": f"203.0.113.{index}"}
            )
            statuses.append(answer.status_code)
    assert statuses[-1] == 429


async def test_a_trusted_proxy_that_ended_tls_gets_a_secure_cookie(node: Served) -> None:
    headers = {"X-Forwarded-For": "198.51.100.11", "X-Forwarded-Proto": "https"}
    async with client_from(node, PROXY, **headers) as client:
        answer = await client.post("/sign-in", data=ANN)
    assert answer.status_code == 303
    assert "secure" in answer.headers["set-cookie"].lower()
