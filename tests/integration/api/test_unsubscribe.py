"""One-click unsubscribe (RFC 8058) over HTTP: ``"unsubscribe": true`` on POST /v1/emails adds
List-Unsubscribe and List-Unsubscribe-Post, DKIM-signed; the POST with the exact body Gmail
sends unsubscribes; a GET only shows a page; altered tokens change nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import dkim
import httpx
import pytest

from postillon.clock import FakeClock
from postillon.config.settings import ApiSettings
from postillon.services.container import Services
from postillon.storage import SqlStore
from tests.integration.api.conftest import (
    MASTER,
    START,
    World,
    api_settings,
    client_for,
    email,
    verified_domain,
)
from tests.integration.domains.oracles import dkimpy_dnsfunc
from tests.support.dns_server import TestDns

PUBLIC_URL = "https://mail.postillon.test"
# What Gmail (and RFC 8058 §3.2's example) POSTs.
ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_LINK = re.compile(rb"List-Unsubscribe: <https://mail\.postillon\.test(/u/[A-Za-z0-9_.-]+)>")


@pytest.fixture
async def public(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[World]:
    """The API world with ``[api] public_url`` set."""
    clock = FakeClock(START)
    base = api_settings(tmp_path / "api.db", test_dns)
    settings = base.model_copy(
        update={"api": ApiSettings(**{**base.api.model_dump(), "public_url": PUBLIC_URL})}
    )
    store = SqlStore.from_url(settings.storage.url, clock)
    await store.migrate()
    services = Services.build(settings, store, None, clock, master_key=MASTER)
    yield World(settings, store, services, clock, test_dns)
    await services.close()
    await store.close()


async def sent_with_unsubscribe(world: World, client: httpx.AsyncClient) -> tuple[str, bytes]:
    sender = await verified_domain(client, world.test_dns, "unsub")
    answer = await client.post("/v1/emails", json=email(sender, unsubscribe=True))
    assert answer.status_code == 202, answer.text
    stored = await world.store.get_message(answer.json()["id"], with_body=True)
    assert stored is not None
    assert stored.body is not None
    return answer.json()["id"], stored.body


async def test_the_headers_are_added_and_signed(public: World) -> None:
    async with client_for(public.app(), await public.key("acme")) as client:
        _, body = await sent_with_unsubscribe(public, client)
    head = body.split(b"\r\n\r\n", 1)[0]
    assert _LINK.search(head)
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in head
    signature = head.split(b"\r\nFrom:", 1)[0].replace(b"\r\n", b"")
    signed = re.search(rb"h=([^;]+);", signature)
    assert signed is not None
    names = signed.group(1).replace(b" ", b"").lower().split(b":")
    assert b"list-unsubscribe" in names
    assert b"list-unsubscribe-post" in names
    assert dkim.verify(body, dnsfunc=dkimpy_dnsfunc(public.test_dns.nameserver)) is True


async def test_gmail_one_click_post_unsubscribes_once(public: World) -> None:
    token = await public.key("acme")
    async with client_for(public.app(), token) as client:
        message_id, body = await sent_with_unsubscribe(public, client)
        link = _LINK.search(body)
        assert link is not None
        path = link.group(1).decode()
        account = await public.services.keys.authenticate(token)
        assert account is not None

        page = await client.get(path)
        assert page.status_code == 200
        assert "ada@example.test" in page.text
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
        assert await public.store.list_suppressions(account.id, limit=10) == []

        async with client_for(public.app()) as anonymous:  # no API key: the token is enough
            done = await anonymous.post(path, content=ONE_CLICK_BODY, headers=FORM)
            again = await anonymous.post(path, content=ONE_CLICK_BODY, headers=FORM)
        assert (done.status_code, again.status_code) == (200, 200)
        [listed] = await public.store.list_suppressions(account.id, limit=10)
        assert (listed.address, listed.reason, listed.source_message_id) == (
            "ada@example.test",
            "unsubscribe",
            message_id,
        )
        events = await public.store.list_events(account_id=account.id, limit=100)
        unsubscribed = [e for e in events if e.type == "email.unsubscribed"]
        assert len(unsubscribed) == 1
        assert unsubscribed[0].payload["message_id"] == message_id
        assert unsubscribed[0].payload["recipient"] == "ada@example.test"

        sender = (await client.get(f"/v1/emails/{message_id}")).json()["from"]
        later = await client.post(
            "/v1/emails", json={"from": sender, "to": "ada@example.test", "text": "x"}
        )
        assert later.json()["status"] == "suppressed"


async def test_the_confirmation_form_posts_what_the_server_wants(public: World) -> None:
    async with client_for(public.app(), await public.key("acme")) as client:
        _, body = await sent_with_unsubscribe(public, client)
        link = _LINK.search(body)
        assert link is not None
        # A browser submitting the page's form sends the same urlencoded field.
        answer = await client.post(link.group(1).decode(), data={"List-Unsubscribe": "One-Click"})
        multipart = await client.post(
            link.group(1).decode(), files={"List-Unsubscribe": (None, "One-Click")}
        )
    assert (answer.status_code, multipart.status_code) == (200, 200)


async def test_altered_or_empty_requests_change_nothing(public: World) -> None:
    token = await public.key("acme")
    async with client_for(public.app(), token) as client:
        _, body = await sent_with_unsubscribe(public, client)
        link = _LINK.search(body)
        assert link is not None
        path = link.group(1).decode()
        body_part, _, tag = path.removeprefix("/u/").partition(".")
        flipped = ("A" if tag[0] != "A" else "B") + tag[1:]
        altered = await client.post(
            f"/u/{body_part}.{flipped}", content=ONE_CLICK_BODY, headers=FORM
        )
        garbage = await client.get("/u/not-a-token")
        no_body = await client.post(path)
        account = await public.services.keys.authenticate(token)
        assert account is not None
        listed = await public.store.list_suppressions(account.id, limit=10)
    assert (altered.status_code, garbage.status_code, no_body.status_code) == (404, 404, 400)
    assert listed == []


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"to": ["ada@example.test", "bob@example.test"]}, id="two-recipients"),
        pytest.param({"bcc": "bob@example.test"}, id="a-bcc-too"),
        pytest.param({"headers": {"List-Unsubscribe": "<mailto:u@example.test>"}}, id="own-header"),
    ],
)
async def test_unsubscribe_refused_where_it_cannot_work(
    public: World, fields: dict[str, object]
) -> None:
    async with client_for(public.app(), await public.key("acme")) as client:
        sender = await verified_domain(client, public.test_dns, "unsubno")
        answer = await client.post("/v1/emails", json=email(sender, unsubscribe=True, **fields))
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["unsubscribe"]


async def test_without_public_url_unsubscribe_is_422(
    client: httpx.AsyncClient, sender: str
) -> None:
    answer = await client.post("/v1/emails", json=email(sender, unsubscribe=True))
    assert answer.status_code == 422
    [field] = answer.json()["error"]["fields"]
    assert field["field"] == "unsubscribe"
    assert "public_url" in field["message"]


async def test_domain_default_applies_to_single_recipient_mail(public: World) -> None:
    async with client_for(public.app(), await public.key("acme")) as client:
        sender = await verified_domain(client, public.test_dns, "unsubdefault")
        patched = await client.patch(f"/v1/domains/{sender}", json={"unsubscribe_default": True})
        assert patched.status_code == 200, patched.text
        assert patched.json()["unsubscribe_default"] is True
        assert (await client.get(f"/v1/domains/{sender}")).json()["unsubscribe_default"] is True

        bodies = {
            "default": email(sender),
            "opted-out": email(sender, unsubscribe=False),
            "two-recipients": email(sender, to=["ada@example.test", "bob@example.test"]),
        }
        heads = {}
        for name, body in bodies.items():
            answer = await client.post("/v1/emails", json=body)
            assert answer.status_code == 202, answer.text
            stored = await public.store.get_message(answer.json()["id"], with_body=True)
            assert stored is not None
            assert stored.body is not None
            heads[name] = stored.body.split(b"\r\n\r\n", 1)[0]
        unknown = await client.patch("/v1/domains/nope.example", json={"unsubscribe_default": True})
        bad = await client.patch(f"/v1/domains/{sender}", json={"unsubscribe": True})
    assert _LINK.search(heads["default"])
    assert b"List-Unsubscribe" not in heads["opted-out"]
    assert b"List-Unsubscribe" not in heads["two-recipients"]
    assert (unknown.status_code, bad.status_code) == (404, 422)
