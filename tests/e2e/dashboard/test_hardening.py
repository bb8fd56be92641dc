"""Dashboard hardening over HTTP: a strict CSP and no framing, Secure cookies behind a TLS
proxy (``[dashboard] public_url``), sign-out that ends a copied session cookie too, and a
non-ASCII CSRF token refused with 403 (not a 500). The node listens on 127.0.17.5."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from postillon.config.settings import ApiSettings, DashboardSettings
from postillon.dashboard.context import ACTION_LIMIT
from tests.e2e.dashboard.browsing import signed_client
from tests.e2e.dashboard.conftest import Served, serve_node
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)

API = ApiSettings(listen="127.0.17.5:0")
PASSWORD = "correct horse battery"


@pytest.fixture
async def node(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[Served]:
    async with serve_node(tmp_path, test_dns, api=API) as opened:
        yield opened


def stolen(client: httpx.AsyncClient, served: Served) -> httpx.AsyncClient:
    """Another client holding a copy of ``client``'s session cookie."""
    return httpx.AsyncClient(base_url=served.base_url, cookies=client.cookies, timeout=15.0)


async def test_every_page_forbids_framing_and_foreign_code(node: Served) -> None:
    async with signed_client(node) as (client, _):
        for path in ("/sign-in", "/overview", "/messages", "/static/dashboard.css"):
            answer = await client.get(path)
            csp = answer.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp, path
            assert "script-src 'self'" in csp
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["x-content-type-options"] == "nosniff"


async def test_signing_out_with_a_key_ends_a_copied_session(node: Served) -> None:
    async with signed_client(node) as (client, csrf), stolen(client, node) as thief:
        assert (await thief.get("/overview")).status_code == 200
        node.clock.advance(1)
        out = await client.post("/sign-out", data={"csrf": csrf})
        assert out.status_code == 303
        refused = await thief.get("/overview")
    assert refused.status_code == 303
    assert "/sign-in" in refused.headers["location"]
    async with signed_client(node) as (again, _):  # signing in afresh still works
        assert (await again.get("/overview")).status_code == 200


async def test_signing_out_as_a_person_ends_a_copied_session(node: Served) -> None:
    await node.node.services.users.add(node.account, "ann@example.com", PASSWORD)
    async with httpx.AsyncClient(base_url=node.base_url, timeout=15.0) as client:
        signed = await client.post(
            "/sign-in", data={"email": "ann@example.com", "password": PASSWORD}
        )
        assert signed.status_code == 303
        page = await client.get("/overview")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        async with stolen(client, node) as thief:
            node.clock.advance(1)
            await client.post("/sign-out", data={"csrf": csrf})
            refused = await thief.get("/overview")
    assert refused.status_code == 303


async def test_a_non_ascii_csrf_token_is_403(node: Served) -> None:
    async with signed_client(node) as (client, _):
        answer = await client.post("/sign-out", data={"csrf": "é" * 43})
        assert answer.status_code == 403
        assert (await client.get("/overview")).status_code == 200  # still signed in


async def test_the_cookie_is_secure_behind_a_tls_proxy(tmp_path: Path, test_dns: TestDns) -> None:
    proxied = DashboardSettings(public_url="https://mail.example.test/dashboard")
    async with serve_node(tmp_path, test_dns, api=API, dashboard=proxied) as served:
        client = httpx.AsyncClient(base_url=served.base_url, timeout=15.0)
        try:
            answer = await client.post("/sign-in", data={"api_key": served.token})
        finally:
            await client.aclose()
    assert answer.status_code == 303
    assert "secure" in answer.headers["set-cookie"].lower()


async def test_the_cookie_is_not_secure_over_plain_http_without_a_public_url(node: Served) -> None:
    async with httpx.AsyncClient(base_url=node.base_url, timeout=15.0) as client:
        answer = await client.post("/sign-in", data={"api_key": node.token})
    assert answer.status_code == 303
    assert "secure" not in answer.headers["set-cookie"].lower()


async def test_an_accounts_dashboard_actions_are_rate_limited(node: Served) -> None:
    burst = ACTION_LIMIT.burst
    async with signed_client(node) as (client, _):
        # Each action is charged before its form is even checked (a wrong CSRF token: 403).
        statuses = [
            (await client.post("/domains", data={"csrf": "x", "name": "a.test"})).status_code
            for _ in range(burst + 1)
        ]
        assert statuses == [403] * burst + [429]
        throttled = await client.post("/domains", data={"csrf": "x", "name": "a.test"})
        assert int(throttled.headers["retry-after"]) >= 1
        assert (await client.get("/overview")).status_code == 200  # reading is not an action
    other = await node.node.services.keys.create("globex")
    async with signed_client(node, other[1]) as (globex, _):
        refused = await globex.post("/domains", data={"csrf": "x", "name": "a.test"})
        assert refused.status_code == 403  # its own bucket
