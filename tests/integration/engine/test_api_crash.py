"""``kill -9`` of ``postillon serve`` while API sends are in flight loses no 202.

A real server (role api) on SQLite at 127.0.13.20:8025 with a sender domain verified over
HTTP through the test DNS; 20 concurrent clients post single sends and a few batches; the
server is killed with SIGKILL once some have been answered. Every message whose 202 arrived
is in the database afterwards (the answer came after its group commit), with its idempotency
key, and a restarted server answers a retry of that key with the same id.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import pytest

from postillon.clock import SystemClock
from postillon.config.loader import load_settings
from postillon.services.container import Services
from postillon.storage.sql_store import SqlStore
from tests.integration.api.conftest import zone_text
from tests.integration.engine.test_crash import kill9, start_server
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(120)

API = "127.0.13.20"
CLIENTS = 20
MAX_REQUESTS = 400  # bounded: the kill comes long before
KILL_AFTER = 60  # answered 202s before the kill


def write_config(path: Path, db: Path, nameserver: str) -> None:
    path.write_text(
        f'[storage]\nurl = "sqlite:///{db}"\n'
        f'[api]\nlisten = "{API}:8025"\nrate_per_s = 100000.0\nrate_burst = 100000\n'
        f'[dns]\nnameservers = ["{nameserver}"]\ntimeout_s = 3\n'
        '[delivery]\nhelo_name = "mta.postillon.test"\nsource_addresses = ["127.0.13.21"]\n'
        "[mta_sts]\nenabled = false\n"
        f'[dkim]\nmaster_key_file = "{db.parent / "dkim-master.key"}"\n'
    )


async def wait_ready(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while True:
            try:
                await client.get("/openapi.json")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)


def body(index: int, domain: str) -> dict[str, object]:
    return {
        "from": f"news@{domain}",
        "to": f"rcpt{index}@example.test",
        "subject": f"crash {index}",
        "text": "Hello",
    }


async def test_kill_9_loses_no_answered_send(tmp_path: Path, test_dns: TestDns) -> None:
    db, config, log = tmp_path / "queue.db", tmp_path / "serve.toml", tmp_path / "serve.log"
    write_config(config, db, test_dns.nameserver)
    settings = load_settings(config)
    store = SqlStore.from_url(settings.storage.url, SystemClock())
    await store.migrate()
    services = Services.build(settings, store, None, SystemClock())
    _, key = await services.keys.create("acme")
    await services.close()

    server = await start_server(config, log, role="api")
    headers = {"Authorization": f"Bearer {key}"}
    answered: dict[str, str] = {}  # idempotency key -> message id, for every 202
    try:
        async with httpx.AsyncClient(
            base_url=f"http://{API}:8025", headers=headers, timeout=30
        ) as client:
            await wait_ready(client)
            domain = test_dns.new_origin("apicrash")
            added = await client.post("/v1/domains", json={"name": domain})
            assert added.status_code == 201, added.text
            test_dns.add_zone(domain, zone_text(added.json()["records"]))
            verified = await client.post(f"/v1/domains/{domain}/verify")
            assert verified.json()["status"] == "verified", verified.text
            counter = itertools.count()
            enough = asyncio.Event()

            async def client_loop() -> None:
                while (index := next(counter)) < MAX_REQUESTS:
                    idem = f"crash-{index}"
                    try:
                        answer = await client.post(
                            "/v1/emails",
                            json=body(index, domain),
                            headers={"Idempotency-Key": idem},
                        )
                    except httpx.TransportError:
                        return  # the server is gone
                    if answer.status_code == 202:
                        answered[idem] = answer.json()["id"]
                        if len(answered) >= KILL_AFTER:
                            enough.set()

            clients = [asyncio.create_task(client_loop()) for _ in range(CLIENTS)]
            async with asyncio.timeout(60):
                await enough.wait()
            await kill9(server)
            await asyncio.gather(*clients)
    finally:
        await kill9(server)

    assert len(answered) >= KILL_AFTER
    for message_id in answered.values():
        assert await store.get_message(message_id) is not None, message_id

    # The restarted server answers a retry of an acknowledged key with the same message.
    server = await start_server(config, log, role="api")
    try:
        async with httpx.AsyncClient(
            base_url=f"http://{API}:8025", headers=headers, timeout=30
        ) as client:
            await wait_ready(client)
            idem, message_id = next(iter(answered.items()))
            index = int(idem.removeprefix("crash-"))
            again = await client.post(
                "/v1/emails", json=body(index, domain), headers={"Idempotency-Key": idem}
            )
            assert again.status_code == 202, again.text
            assert again.json()["id"] == message_id
    finally:
        await kill9(server)
        await store.close()
