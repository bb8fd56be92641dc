"""A submitted message as the API and the dashboard show it: like an API message, with its
source and the prefix of the key that sent it."""

from __future__ import annotations

import asyncio
import smtplib

import httpx
import pytest

from tests.integration.submission.conftest import HOST, STARTTLS_PORT, SubmissionWorld

pytestmark = [pytest.mark.timeout(60)]


def _send(world: SubmissionWorld) -> None:
    message = (
        f"From: shop@{world.acme_domain}\r\nTo: bob@{world.recipient_domain}\r\n"
        "Subject: shown\r\n\r\nhi\r\n"
    ).encode()
    with smtplib.SMTP(HOST, STARTTLS_PORT, timeout=10) as client:
        client.starttls(context=world.client_context())
        client.login("app", world.acme_key)
        client.sendmail(f"shop@{world.acme_domain}", [f"bob@{world.recipient_domain}"], message)


async def test_api_and_dashboard_show_source_and_key_prefix(world: SubmissionWorld) -> None:
    await asyncio.to_thread(_send, world)
    [message_id] = await world.messages()
    prefix = world.acme_key[:12]
    transport = httpx.ASGITransport(app=world.node.api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        headers = {"Authorization": f"Bearer {world.acme_key}"}
        email = (await client.get(f"/v1/emails/{message_id}", headers=headers)).json()
        assert (email["source"], email["api_key_prefix"], email["subject"]) == (
            "smtp",
            prefix,
            "shown",
        )
        signed = await client.post("/dashboard/sign-in", data={"api_key": world.acme_key})
        assert signed.status_code == 303, signed.text
        page = await client.get(f"/dashboard/messages/{message_id}")
    assert page.status_code == 200
    assert f"<dt>Came in by</dt><dd>SMTP with key <code>{prefix}…</code></dd>" in page.text
