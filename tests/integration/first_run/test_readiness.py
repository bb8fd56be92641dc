"""``/readyz`` says what keeps a node from being ready: the schema, and the delivery loop."""

from __future__ import annotations

from pathlib import Path

import httpx

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import ApiSettings, Settings, StorageSettings
from postillon.roles import Role


def settings(tmp_path: Path) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path),
        api=ApiSettings(listen="127.0.16.8:0"),
    )


async def readyz(node: Node) -> httpx.Response:
    transport = httpx.ASGITransport(app=node.api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
        return await client.get("/readyz")


async def test_an_unmigrated_store_and_a_stopped_loop_are_not_ready(tmp_path: Path) -> None:
    node = Node(settings(tmp_path), clock=FakeClock())
    try:
        before = await readyz(node)
        await node.migrate()
        after = await readyz(node)
    finally:
        await node.close()

    assert before.status_code == 503
    problems = before.json()["problems"]
    assert any(p.startswith("schema at revision None, expected 00") for p in problems)
    assert "the delivery loop is not running" in problems
    assert after.status_code == 503
    assert after.json()["problems"] == ["the delivery loop is not running"]


async def test_an_api_node_needs_no_delivery_loop(tmp_path: Path) -> None:
    node = Node(settings(tmp_path), clock=FakeClock(), role=Role.API)
    try:
        await node.migrate()
        answer = await readyz(node)
    finally:
        await node.close()

    assert (answer.status_code, answer.json()) == (200, {"status": "ready"})
