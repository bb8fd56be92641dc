"""``/v1/webhooks`` through httpx's ASGI transport, on the real services and endpoint service.

Receivers are real aiohttp servers on 127.0.0.220-223 (this module owns 127.0.0.220-229; the
allowlist covers .220/30 only, so .229 stands for a loopback address nobody allowed). They check
every request with ``standardwebhooks``' own ``Webhook.verify``, which compares webhook-timestamp
with the real clock: the fake clock here starts at the real time. No name is ever resolved
through real DNS: the endpoint service gets a table resolver.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
import schemathesis
from aiohttp import web
from fastapi import FastAPI
from pydantic import SecretStr
from schemathesis.core.result import Ok
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from postillon.api import create_app
from postillon.api.rate_limit import RateLimit
from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import DkimSettings, WebhookSettings
from postillon.services.container import Services
from postillon.storage import SqlStore
from postillon.storage.transactions import Transactions
from postillon.storage.webhook_deliveries_sql import SqlWebhookDeliveries
from postillon.storage.webhooks_sql import SqlWebhookEndpoints
from postillon.webhooks.dispatcher import WebhookDispatcher
from postillon.webhooks.guard import TargetGuard
from postillon.webhooks.secret_box import SecretBox
from postillon.webhooks.sender import WebhookSender
from postillon.webhooks.service import WebhookService
from tests.integration.api.conftest import (
    MASTER,
    TEST_RATE_LIMIT,
    World,
    api_settings,
    client_for,
    email,
)
from tests.integration.api.fuzzing import fuzz_operations
from tests.integration.api.test_openapi import UNLIMITED
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)

ALLOWED_RECEIVERS = "127.0.0.220/30"
NOT_ALLOWED = "127.0.0.229"  # loopback, ours, outside the allowlist
# What the table resolver knows; every other name fails to resolve.
NAMES = {"hooks.acme.test": ["127.0.0.221"], "sneaky.acme.test": [NOT_ALLOWED]}
# Bounded: nine operations, two modes; the whole fuzz run stays well under a minute.
FUZZ_EXAMPLES = 30


class TableResolver:
    """The endpoint service's AddressResolver: a fixed table, never the network."""

    async def addresses(self, host: str) -> list[str]:
        if host not in NAMES:
            raise OSError(f"{host}: not resolvable in these tests")
        return list(NAMES[host])


@dataclass
class HookWorld(World):
    """The API world plus the webhook endpoint service and a dispatcher on the same store."""

    webhooks: WebhookService
    dispatcher: WebhookDispatcher

    def app(self, rate_limit: RateLimit = TEST_RATE_LIMIT) -> FastAPI:
        return create_app(
            self.services,
            self.settings,
            clock=self.clock,
            rate_limit=rate_limit,
            webhooks=self.webhooks,
        )


@pytest.fixture
async def world(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[HookWorld]:
    """Overrides conftest's world: the same services, and /v1/webhooks served."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    settings = api_settings(tmp_path / "api.db", test_dns).model_copy(
        update={"webhooks": WebhookSettings(allow_private_networks=(ALLOWED_RECEIVERS,))}
    )
    store = SqlStore.from_url(settings.storage.url, clock)
    await store.migrate()
    services = Services.build(settings, store, None, clock, master_key=MASTER)
    transactions = Transactions(store.engines, clock)
    guard = TargetGuard.from_settings(settings.webhooks)
    sender = WebhookSender(
        guard, clock=clock, resolver=TableResolver(), connect_timeout_s=3.0, timeout_s=5.0
    )
    box = SecretBox(MASTER.material, os.urandom)
    deliveries = SqlWebhookDeliveries(transactions)
    dispatcher = WebhookDispatcher(
        store=store, deliveries=deliveries, sender=sender, box=box, clock=clock, owner="api"
    )
    webhooks = WebhookService(
        endpoints=SqlWebhookEndpoints(transactions),
        deliveries=deliveries,
        guard=guard,
        resolver=TableResolver(),
        sender=sender,
        box=box,
        clock=clock,
        wake_dispatcher=dispatcher.wake,
    )
    yield HookWorld(settings, store, services, clock, test_dns, webhooks, dispatcher)
    await services.close()
    await store.close()


@dataclass(frozen=True)
class Received:
    """One request as a receiver got it, and which of its secrets verified it."""

    headers: dict[str, str]
    body: bytes
    verified_by: tuple[int, ...]

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """``async with Receiver("127.0.0.220") as r``; answers ``status`` with ``reply``."""

    host: str
    status: int = 204
    reply: bytes = b""
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)

    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        (address,) = self._runner.addresses
        self.port = int(address[1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._runner.cleanup()

    def payload(self, index: int) -> Any:
        """The JSON of request ``index``, verified by the library with the first secret."""
        got = self.received[index]
        return Webhook(self.secrets[0]).verify(got.body, got.headers)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(index)
        self.received.append(Received(headers, body, tuple(verified)))
        return web.Response(status=self.status, body=self.reply)


async def register(client: httpx.AsyncClient, url: str, events: Any = "*") -> dict[str, Any]:
    created = await client.post("/v1/webhooks", json={"url": url, "events": events})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def fields_of(response: httpx.Response) -> list[str]:
    return [problem["field"] for problem in response.json()["error"]["fields"]]


async def test_an_endpoint_is_created_read_changed_and_deleted(
    client: httpx.AsyncClient, world: HookWorld
) -> None:
    created = await register(client, "http://127.0.0.220:9/hook", ["email.bounced"])
    hook_id = created["id"]

    assert created["secret"].startswith("whsec_")
    assert (created["events"], created["enabled"]) == (["email.bounced"], True)
    listed = (await client.get("/v1/webhooks")).json()["data"]
    assert [h["id"] for h in listed] == [hook_id]
    read = (await client.get(f"/v1/webhooks/{hook_id}")).json()
    assert "secret" not in read
    assert "secret" not in listed[0]
    assert read["url"] == "http://127.0.0.220:9/hook"

    changed = await client.patch(
        f"/v1/webhooks/{hook_id}",
        json={"url": "https://hooks.acme.test/new", "events": "*", "enabled": False},
    )
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()[k] for k in ("url", "events", "enabled", "disabled_reason")} == {
        "url": "https://hooks.acme.test/new",
        "events": "*",
        "enabled": False,
        "disabled_reason": "disabled by request",
    }
    enabled = (await client.patch(f"/v1/webhooks/{hook_id}", json={"enabled": True})).json()
    assert (enabled["enabled"], enabled["disabled_reason"], enabled["url"]) == (
        True,
        None,
        "https://hooks.acme.test/new",
    )

    assert (await client.delete(f"/v1/webhooks/{hook_id}")).status_code == 204
    gone = await client.get(f"/v1/webhooks/{hook_id}")
    assert (gone.status_code, gone.json()["error"]["type"]) == (404, "not_found")
    assert (await client.get("/v1/webhooks")).json()["data"] == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        pytest.param(f"http://{NOT_ALLOWED}:8080/hook", "loopback", id="loopback-not-allowed"),
        pytest.param("http://127.0.0.1/hook", "loopback", id="loopback"),
        pytest.param("http://169.254.169.254/latest/meta-data", "link-local", id="metadata"),
        pytest.param("http://[::ffff:127.0.0.220]/hook", "IPv4-mapped", id="ipv4-mapped"),
        pytest.param("http://2130706652/hook", "numeric IPv4", id="decimal-ipv4"),
        pytest.param("http://sneaky.acme.test/hook", "loopback", id="name-to-loopback"),
        pytest.param("ftp://127.0.0.220/hook", "scheme", id="scheme"),
        pytest.param("http://nowhere.acme.test/hook", "cannot resolve", id="unresolvable"),
    ],
)
async def test_an_unsafe_url_is_refused_naming_url_and_why(
    client: httpx.AsyncClient, url: str, reason: str
) -> None:
    refused = await client.post("/v1/webhooks", json={"url": url, "events": "*"})

    assert refused.status_code == 422, refused.text
    assert fields_of(refused) == ["url"]
    assert reason in refused.json()["error"]["fields"][0]["message"]
    assert (await client.get("/v1/webhooks")).json()["data"] == []


async def test_a_change_to_an_unsafe_url_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    hook = await register(client, "http://127.0.0.220:9/hook")

    refused = await client.patch(f"/v1/webhooks/{hook['id']}", json={"url": "http://10.0.0.1/"})

    assert (refused.status_code, fields_of(refused)) == (422, ["url"])
    assert (await client.get(f"/v1/webhooks/{hook['id']}")).json()["url"] == hook["url"]


@pytest.mark.parametrize(
    ("events", "field_name"),
    [
        pytest.param(["email.delivered", "email.nope"], "events[1]", id="unknown-type"),
        pytest.param([], "events", id="empty-list"),
        pytest.param("email.delivered", "events", id="bare-type-string"),
        pytest.param(5, "events", id="number"),
    ],
)
async def test_a_bad_event_filter_is_refused_naming_the_item(
    client: httpx.AsyncClient, events: Any, field_name: str
) -> None:
    url = "http://127.0.0.220:9/hook"
    refused = await client.post("/v1/webhooks", json={"url": url, "events": events})

    assert (refused.status_code, fields_of(refused)) == (422, [field_name])


OPERATIONS = [
    pytest.param("GET", "", None, id="get"),
    pytest.param("PATCH", "", {"enabled": False}, id="patch"),
    pytest.param("DELETE", "", None, id="delete"),
    pytest.param("POST", "/rotate-secret", None, id="rotate"),
    pytest.param("GET", "/deliveries", None, id="deliveries"),
    pytest.param("POST", "/replay", {"event_id": "msg_nope"}, id="replay"),
    pytest.param("POST", "/test", None, id="test-event"),
]


@pytest.mark.parametrize(("method", "suffix", "body"), OPERATIONS)
async def test_another_accounts_endpoint_is_not_found(
    client: httpx.AsyncClient, world: HookWorld, method: str, suffix: str, body: Any
) -> None:
    hook = await register(client, "http://127.0.0.220:9/hook")
    async with client_for(world.app(), await world.key("intruder")) as intruder:
        answer = await intruder.request(method, f"/v1/webhooks/{hook['id']}{suffix}", json=body)
        assert (await intruder.get("/v1/webhooks")).json()["data"] == []

    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["message"] == f"no webhook endpoint {hook['id']}"
    untouched = (await client.get(f"/v1/webhooks/{hook['id']}")).json()
    assert untouched == {k: v for k, v in hook.items() if k != "secret"}


async def test_the_test_event_is_signed_sent_and_logged(client: httpx.AsyncClient) -> None:
    async with Receiver("127.0.0.220") as receiver:
        hook = await register(client, receiver.url(), ["email.bounced"])
        receiver.secrets.append(hook["secret"])
        answer = await client.post(
            f"/v1/webhooks/{hook['id']}/test", json={"type": "email.bounced"}
        )

    result = answer.json()
    assert answer.status_code == 200, answer.text
    assert (result["success"], result["status"], result["error"]) == (True, 204, None)
    payload = receiver.payload(0)  # standardwebhooks verified it
    assert (payload["type"], payload["data"]["test"]) == ("email.bounced", True)
    (entry,) = (await client.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()["data"]
    assert (entry["event_id"], entry["event_type"], entry["status"], entry["verdict"]) == (
        receiver.received[0].webhook_id,
        "email.bounced",
        204,
        "test",
    )


async def test_a_failed_test_delivery_reports_the_status_and_the_answer(
    client: httpx.AsyncClient,
) -> None:
    async with Receiver("127.0.0.221", status=500, reply=b"db down") as receiver:
        hook = await register(client, receiver.url())
        answer = await client.post(f"/v1/webhooks/{hook['id']}/test")

    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["success"], result["status"], result["response_snippet"]) == (
        False,
        500,
        "db down",
    )
    assert result["error"] == "HTTP 500"
    (entry,) = (await client.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()["data"]
    assert (entry["status"], entry["response_snippet"], entry["attempt"]) == (500, "db down", 1)


async def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
    client: httpx.AsyncClient, world: HookWorld
) -> None:
    async with Receiver("127.0.0.222") as receiver:
        hook = await register(client, receiver.url())
        rotated = (await client.post(f"/v1/webhooks/{hook['id']}/rotate-secret")).json()
        receiver.secrets += [hook["secret"], rotated["secret"]]
        await client.post(f"/v1/webhooks/{hook['id']}/test")

    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != hook["secret"]
    until = datetime.fromisoformat(rotated["previous_secret_until"])
    assert until == world.clock.now() + timedelta(hours=24)
    (delivery,) = receiver.received
    assert delivery.verified_by == (0, 1)  # the old secret and the new one
    read = (await client.get(f"/v1/webhooks/{hook['id']}")).json()
    assert datetime.fromisoformat(read["previous_secret_until"]) == until


async def test_an_event_is_replayed_with_the_same_id_and_body(
    client: httpx.AsyncClient, world: HookWorld, sender: str
) -> None:
    async with Receiver("127.0.0.223") as receiver:
        hook = await register(client, receiver.url(), ["email.queued"])
        receiver.secrets.append(hook["secret"])
        assert (await client.post("/v1/emails", json=email(sender))).status_code == 202
        await world.dispatcher.run_until_idle()
        (first,) = receiver.received

        replayed = await client.post(
            f"/v1/webhooks/{hook['id']}/replay", json={"event_id": first.webhook_id}
        )
        await world.dispatcher.run_until_idle()

    assert replayed.status_code == 202, replayed.text
    assert replayed.json() == {"webhook_id": hook["id"], "event_id": first.webhook_id}
    again = receiver.received[1]
    assert (again.webhook_id, again.body) == (first.webhook_id, first.body)
    assert receiver.payload(1)["type"] == "email.queued"
    log = f"/v1/webhooks/{hook['id']}/deliveries"
    newest = (await client.get(log, params={"limit": 1})).json()
    older = (await client.get(log, params={"limit": 1, "before": newest["next_before"]})).json()
    assert [e["event_id"] for e in newest["data"] + older["data"]] == [first.webhook_id] * 2
    assert newest["data"][0]["id"] > older["data"][0]["id"]
    assert (await client.get(log, params={"before": older["data"][0]["id"]})).json() == {
        "data": [],
        "next_before": None,
    }


async def test_replaying_an_unknown_or_foreign_event_is_not_found(
    client: httpx.AsyncClient, world: HookWorld, sender: str
) -> None:
    assert (await client.post("/v1/emails", json=email(sender))).status_code == 202
    claimed = await world.store.claim_events("peek", world.clock.now(), 1.0, 10)
    (event,) = [e for e in claimed if e.type == "email.queued"]
    async with client_for(world.app(), await world.key("intruder")) as intruder:
        theirs = await register(intruder, "http://127.0.0.220:9/hook")
        foreign = await intruder.post(
            f"/v1/webhooks/{theirs['id']}/replay", json={"event_id": event.id}
        )
        unknown = await intruder.post(
            f"/v1/webhooks/{theirs['id']}/replay", json={"event_id": "msg_nope"}
        )

    for answer in (foreign, unknown):
        assert (answer.status_code, fields_of(answer)) == (404, ["event_id"])


async def test_the_node_serves_the_webhook_routes(tmp_path: Path, test_dns: TestDns) -> None:
    settings = api_settings(tmp_path / "node.db", test_dns).model_copy(
        update={
            "dkim": DkimSettings(master_key=SecretStr(base64.b64encode(MASTER.material).decode()))
        }
    )
    node = Node(settings)
    try:
        paths = node.api_app.openapi()["paths"]
    finally:
        await node.close()

    assert {"/v1/webhooks", "/v1/webhooks/{webhook_id}/replay"} <= set(paths)


@pytest.mark.slow
@pytest.mark.timeout(110)
async def test_schemathesis_finds_no_server_error_in_the_webhook_routes(world: HookWorld) -> None:
    app = world.app(UNLIMITED)
    token = await world.key("fuzz")
    schema = schemathesis.openapi.from_dict(app.openapi())
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok) and result.ok().path.startswith("/v1/webhooks")
    ]
    assert len(operations) == 9
    async with client_for(app) as client:
        statuses = await fuzz_operations(client, operations, token, FUZZ_EXAMPLES)
    assert any(200 <= status < 300 for status in statuses), statuses
    assert statuses[404] > 0, statuses
    assert statuses[422] > 0, statuses
