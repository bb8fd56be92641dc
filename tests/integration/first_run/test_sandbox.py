"""The sandbox through the whole pipeline of a real ``postillon serve``: API, queue, attempts,
recorded outcomes, suppression, and signed webhooks to a real receiver; nothing leaves the
machine (the server has no DNS server configured and no route to any MX)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.first_run.server import POSTILLON, Served, clean_env, served
from tests.integration.webhooks.hook_receiver import HookReceiver

pytestmark = pytest.mark.timeout(120)

HOST = "127.0.16.6"
RECEIVER_HOST = "127.0.16.7"
SANDBOX = "simulator.postillon.invalid"
# Outcomes are recorded within a second of acceptance; a loaded machine may need more.
SETTLE_TIMEOUT_S = 30.0


async def new_key(server: Served) -> str:
    """``postillon keys create`` on the server's data directory (found via POSTILLON_HOME)."""
    process = await asyncio.create_subprocess_exec(
        str(POSTILLON),
        "keys",
        "create",
        "--account",
        "acme",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(POSTILLON_HOME=str(server.home)),
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def send(api: httpx.AsyncClient, to: str) -> str:
    answer = await api.post(
        "/v1/emails",
        json={"from": "shop@shop.example", "to": to, "subject": "sandbox", "text": "hi"},
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def settled(api: httpx.AsyncClient, email_id: str) -> dict[str, Any]:
    """The email once its recipient has left ``queued``."""
    async with asyncio.timeout(SETTLE_TIMEOUT_S):
        while True:
            email: dict[str, Any] = (await api.get(f"/v1/emails/{email_id}")).json()
            if email["recipients"][0]["status"] != "queued":
                return email
            await asyncio.sleep(0.1)


EXPECTED_EVENTS = {
    ("email.delivered", f"delivered@{SANDBOX}"),
    ("email.bounced", f"bounced@{SANDBOX}"),
    ("email.deferred", f"deferred@{SANDBOX}"),
    ("email.delivered", f"complained@{SANDBOX}"),
    ("email.complained", f"complained@{SANDBOX}"),
    ("email.bounced", f"suppressed@{SANDBOX}"),
}


async def announced(receiver: HookReceiver, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (type, recipient) of the signed webhooks received once ``wanted`` all arrived
    (or what arrived within the timeout)."""
    seen: set[tuple[str, str]] = set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SETTLE_TIMEOUT_S):
            while not wanted <= seen:
                await asyncio.sleep(0.1)
                seen = {
                    (d.payload["type"], str(d.payload["data"].get("recipient")))
                    for d in receiver.deliveries
                }
    return seen


async def test_each_simulator_address_gets_its_outcome_and_events(tmp_path: Path) -> None:
    async with (
        HookReceiver(RECEIVER_HOST) as receiver,
        served(
            tmp_path,
            HOST,
            POSTILLON_WEBHOOKS__ALLOW_PRIVATE_NETWORKS=f"{RECEIVER_HOST}/32",
        ) as server,
    ):
        key = await new_key(server)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=headers, timeout=10.0
        ) as api:
            added = await api.post("/v1/domains", json={"name": "shop.example"})
            hook = await api.post("/v1/webhooks", json={"url": receiver.url(), "events": "*"})
            assert (added.status_code, hook.status_code) == (201, 201), hook.text
            receiver.secrets.append(hook.json()["secret"])
            mixed = await api.post(
                "/v1/emails",
                json={
                    "from": "shop@shop.example",
                    "to": [f"delivered@{SANDBOX}", "bob@example.net"],
                    "subject": "not only the sandbox",
                    "text": "hi",
                },
            )
            ids = {
                local: await send(api, f"{local}@{SANDBOX}")
                for local in ("delivered", "bounced", "deferred", "complained", "suppressed")
            }
            emails = {local: await settled(api, i) for local, i in ids.items()}
            again = await api.post(
                "/v1/emails",
                json={"from": "shop@shop.example", "to": f"suppressed@{SANDBOX}", "text": "2"},
            )
            # The complaint is applied as a received ARF complaint is: suppressed, reason
            # complaint, in the commit that recorded the delivery.
            complained_again = await api.post(
                "/v1/emails",
                json={"from": "shop@shop.example", "to": f"complained@{SANDBOX}", "text": "2"},
            )
            suppressions = (await api.get("/v1/suppressions")).json()["data"]
        events = await announced(receiver, EXPECTED_EVENTS)

    # An unverified domain may send to the sandbox only.
    assert mixed.status_code == 403, mixed.text
    status = {local: e["recipients"][0]["status"] for local, e in emails.items()}
    assert status == {
        "delivered": "delivered",
        "bounced": "bounced",
        "deferred": "deferred",
        "complained": "delivered",
        "suppressed": "bounced",
    }
    replies = {local: e["recipients"][0]["last_reply"]["code"] for local, e in emails.items()}
    assert replies == {
        "delivered": 250,
        "bounced": 554,
        "deferred": 451,
        "complained": 250,
        "suppressed": 550,
    }
    assert emails["deferred"]["recipients"][0]["next_attempt_at"] is not None
    assert emails["bounced"]["recipients"][0]["bounce_class"] == "policy"
    assert emails["suppressed"]["recipients"][0]["bounce_class"] == "bad_mailbox"
    assert again.json()["status"] == "suppressed"
    assert complained_again.json()["status"] == "suppressed"
    reasons = {item["address"]: (item["reason"], item["detail"]) for item in suppressions}
    assert reasons[f"complained@{SANDBOX}"] == ("complaint", "feedback-type abuse")
    assert reasons[f"suppressed@{SANDBOX}"][0] == "bounce"
    assert f"delivered@{SANDBOX}" not in reasons
    assert events >= EXPECTED_EVENTS, EXPECTED_EVENTS - events
    assert ("email.complained", f"delivered@{SANDBOX}") not in events
