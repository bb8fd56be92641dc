"""The API served by uvicorn in our own loop on 127.0.0.190: a real TCP request, then a clean
stop when the event is set; a listen address that cannot be bound is a ConfigError."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import httpx
import pytest

from postillon.api import ApiServer, serve_api
from postillon.config.settings import ApiSettings
from postillon.errors import ConfigError
from tests.integration.api.conftest import World
from tests.support.listening import is_listening, wait_listening

HOST = "127.0.0.190"


@pytest.mark.timeout(30)
async def test_a_real_server_answers_and_stops(world: World) -> None:
    server = ApiServer(world.app(), world.settings)
    await server.start()
    host, port = server.address
    assert host == HOST
    assert port > 0
    try:
        token = await world.key("acme")
        async with httpx.AsyncClient(
            base_url=f"http://{host}:{port}", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            listed = await client.get("/v1/domains", timeout=5.0)
            assert listed.status_code == 200
            assert listed.json() == {"data": []}
            document = await client.get("/openapi.json", timeout=5.0)
            assert document.json()["info"]["title"] == "postillon"
    finally:
        await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://{host}:{port}/openapi.json", timeout=2.0)


@pytest.mark.timeout(30)
async def test_serve_api_runs_until_stop_is_set(world: World) -> None:
    port = _free_port()
    settings = world.settings.model_copy(update={"api": ApiSettings(listen=f"{HOST}:{port}")})
    stop = asyncio.Event()
    task = asyncio.create_task(serve_api(world.app(), settings, stop))
    assert await wait_listening(HOST, port, timeout_s=10.0)
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://{HOST}:{port}/v1/domains", timeout=5.0)
    assert answer.status_code == 401
    stop.set()
    async with asyncio.timeout(15):
        await task
    assert not is_listening(HOST, port)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(30)
async def test_an_address_in_use_is_a_config_error(world: World) -> None:
    first = ApiServer(world.app(), world.settings)
    await first.start()
    try:
        _, port = first.address
        settings = world.settings.model_copy(update={"api": ApiSettings(listen=f"{HOST}:{port}")})
        second = ApiServer(world.app(), settings)
        with pytest.raises(ConfigError, match=r"api\.listen"):
            await second.start()
    finally:
        with contextlib.suppress(Exception):
            await first.stop()
