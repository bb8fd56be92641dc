"""The inbound listener runs with the ``api`` and ``all`` roles, never with ``worker``, and
stops with the node. A real node's ``run`` on 127.0.15.20:25 (API on 127.0.15.21)."""

from __future__ import annotations

import asyncio
import smtplib
from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import ApiSettings, InboundSettings
from postillon.roles import Role
from tests.integration.services.conftest import services_settings
from tests.support.dns_server import TestDns
from tests.support.listening import is_listening, wait_listening

pytestmark = pytest.mark.timeout(60)

INBOUND = "127.0.15.20"
API = "127.0.15.21"
START_TIMEOUT_S = 10.0


@pytest.mark.parametrize("role", [Role.API, Role.ALL, Role.WORKER])
async def test_inbound_runs_with_the_api_roles_only(
    tmp_path: Path, test_dns: TestDns, role: Role
) -> None:
    base = services_settings(tmp_path / "queue.db", test_dns)
    settings = base.model_copy(
        update={
            "api": ApiSettings(listen=f"{API}:0"),
            "inbound": InboundSettings(listen=(f"{INBOUND}:25",)),
            "dkim": base.dkim.model_copy(update={"master_key_file": tmp_path / "key"}),
        }
    )
    node = Node(settings, clock=FakeClock(), role=role)
    stop = asyncio.Event()
    running = asyncio.create_task(node.run(stop))
    try:
        if role is Role.WORKER:
            await asyncio.sleep(1.0)  # long enough for a listener to have started
            assert not is_listening(INBOUND, 25)
        else:
            assert await wait_listening(INBOUND, 25, START_TIMEOUT_S)

            def greeting() -> int:
                with smtplib.SMTP(INBOUND, 25, timeout=START_TIMEOUT_S) as client:
                    return client.noop()[0]

            assert await asyncio.to_thread(greeting) == 250
    finally:
        stop.set()
        await asyncio.wait_for(running, START_TIMEOUT_S)
    assert not is_listening(INBOUND, 25)
