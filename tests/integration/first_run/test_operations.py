"""Operations on a real ``postillon serve``: probes, metrics, ``/``, offline docs, JSON logs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.integration.first_run.server import served

pytestmark = pytest.mark.timeout(90)

HOST = "127.0.16.3"
METRICS_HOST = "127.0.16.4"


async def test_probes_root_and_docs_without_a_cdn(tmp_path: Path) -> None:
    async with (
        served(tmp_path, HOST) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as client,
    ):
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        browser = await client.get("/", headers={"Accept": "text/html,*/*"})
        program = await client.get("/")
        landed = await client.get("/", headers={"Accept": "text/html"}, follow_redirects=True)
        docs = await client.get("/docs")
        assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        fetched = {url: (await client.get(url)).status_code for url in assets}
        openapi = (await client.get("/openapi.json")).json()

    assert health.json() == {"status": "ok"}
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert browser.status_code == 303
    assert browser.headers["location"] == "/dashboard/"
    assert program.json()["docs"] == "/docs"
    assert landed.status_code == 200
    assert "/dashboard/" in str(landed.url)
    assert 'name="api_key"' in landed.text
    assert docs.status_code == 200
    assert "swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert all(url.startswith("/") for url in assets), assets
    assert fetched, "the docs page loads no assets"
    assert set(fetched.values()) == {200}, fetched
    assert not {"/healthz", "/readyz", "/metrics", "/docs"} & set(openapi["paths"])


async def test_logs_are_json_lines_when_stdout_is_not_a_terminal(tmp_path: Path) -> None:
    async with served(tmp_path, HOST) as server:
        pass
    lines = [line for line in server.stdout.read_text().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object

    assert "\x1b[" not in server.stdout.read_text()
    names = [event["event"] for event in events]
    assert "node.started" in names
    assert "node.stopped" in names
    # The default config's doubts are logged at start, as check-config prints them.
    assert any(
        "spf_addresses" in e.get("detail", "") for e in events if e["event"] == "config.warning"
    )
    assert all("timestamp" in event and "level" in event for event in events)


async def test_metrics_on_their_own_listener(tmp_path: Path) -> None:
    metrics_listen = f"{METRICS_HOST}:9108"
    async with (
        served(tmp_path, HOST, POSTILLON_METRICS__LISTEN=metrics_listen) as server,
        httpx.AsyncClient(timeout=10.0) as client,
    ):
        on_api = await client.get(f"{server.base_url}/metrics")
        own = await client.get(f"http://{metrics_listen}/metrics")

    assert on_api.status_code == 404
    assert own.status_code == 200
    assert "postillon_queue_waiting_recipients 0.0" in own.text
    assert "postillon_webhook_backlog 0.0" in own.text
