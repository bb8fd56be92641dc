"""The dashboard in a real browser (JavaScript off) over a real node: sign in with an API key,
verify a domain whose records are in the (knot) test DNS, see a message delivered over STARTTLS
with its TLS badge, search, retry and cancel a deferred message (it stays, cancelled), create
and revoke keys.
Screenshots go to tests/artifacts/dashboard/ for review."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from postillon.app import Node
from postillon.message.model import OutgoingEmail
from postillon.services.sending import SendRequest
from postillon.storage.records import Account
from tests.e2e.dashboard.browsing import sign_in
from tests.e2e.dashboard.conftest import ARTIFACTS, DEAD_MX_ADDRESS, MX_ADDRESS, Served
from tests.integration.services.conftest import new_domain
from tests.integration.services.publish import publish
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(90)
PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}


async def _send(node: Node, account: Account, shop: str, to: str, subject: str) -> str:
    request = SendRequest(
        email=OutgoingEmail(from_=f"Alice <alice@{shop}>", to=(to,), subject=subject, text="Hi"),
        tags=("orders",),
    )
    return (await node.services.sending.send(account, request)).id


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def _key_on_this_page(page: Page, token: str) -> None:
    await page.get_by_label("API key").fill(token)
    await page.get_by_role("button", name="Sign in with the key").click()


async def test_sign_in_verify_see_tls_search_retry_and_revoke(
    served: Served,
    browser: Browser,
    test_dns: TestDns,
    pki: TestPki,
    smtp_receiver: ReceiverFactory,
) -> None:
    node, account = served.node, served.account
    receiver = await smtp_receiver(
        MX_ADDRESS, tls_context=pki.server_context("mx.inbox.test"), hostname="mx.inbox.test"
    )
    inbox = new_domain(test_dns, "inbox")
    test_dns.add_zone(inbox, f"@ MX 10 mx\nmx A {MX_ADDRESS}")
    dead = new_domain(test_dns, "dead")
    test_dns.add_zone(dead, f"@ MX 10 mx\nmx A {DEAD_MX_ADDRESS}")
    shop = new_domain(test_dns, "shop")
    added = await node.services.domains.add(account, shop)
    publish(test_dns, shop, added.records)
    # No JavaScript: every page and action must work as plain HTML.
    page = await browser.new_page(java_script_enabled=False)

    # A protected page sends the browser to sign in; a wrong key is refused.
    await page.goto(f"{served.base_url}/messages")
    await expect(page).to_have_url(re.compile(r"/dashboard/sign-in\?next=%2Fmessages$"))
    await _key_on_this_page(page, "pst_not-a-key")
    await expect(page.get_by_role("alert")).to_contain_text("not valid")
    await _shot(page, "01-sign-in-refused")
    # The failed attempt kept the way back: signing in lands on the page that asked.
    await _key_on_this_page(page, served.token)
    await expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    cookie = next(c for c in await page.context.cookies() if c["name"] == "postillon_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/dashboard"
    assert served.token not in cookie["value"]

    # The domain's records, then "Verify now" finds them in DNS.
    await page.get_by_role("link", name="Domains").click()
    await page.get_by_role("link", name=shop).click()
    records = page.get_by_role("table", name="Records to publish")
    await expect(records.get_by_role("row")).to_have_count(len(added.records) + 1)
    await expect(records).to_contain_text(f"{added.selector}._domainkey.{shop}")
    await page.get_by_role("button", name="Verify now").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("verified")
    await expect(records).to_contain_text("v=DKIM1")
    await _shot(page, "02-domain-verified")

    # One message delivered over STARTTLS, one deferred (nothing listens on the dead MX).
    delivered_id = await _send(node, account, shop, f"bob@{inbox}", "Order 42")
    deferred_id = await _send(node, account, shop, f"carol@{dead}", "Order 43")
    await node.engine.run_until_idle()
    [received] = await receiver.wait_for(1)
    assert received.tls_version is not None

    await page.get_by_role("link", name="Messages").click()
    await expect(page.get_by_role("link", name="Order 42")).to_be_visible()
    await expect(page.get_by_role("link", name="Order 43")).to_be_visible()
    await _shot(page, "03-messages")
    await page.get_by_role("link", name="Order 42").click()
    await expect(page).to_have_url(re.compile(f"/messages/{delivered_id}$"))
    recipient = page.get_by_role("region", name=re.compile(f"bob@{inbox}"))
    await expect(recipient).to_contain_text("delivered")
    await expect(recipient).to_contain_text(f"mx.{inbox}")
    await expect(recipient).to_contain_text(MX_ADDRESS)
    badge = recipient.locator(".tls")
    await expect(badge).to_have_text(re.compile(r"^TLS (verified|not verified)$"))
    await expect(recipient).to_contain_text(received.tls_version)
    await _shot(page, "04-message-tls")

    # Search by recipient, and by status.
    await page.get_by_role("link", name="Messages").click()
    await page.get_by_label("Recipient").fill(f"carol@{dead}")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name="Order 43")).to_be_visible()
    await expect(page.get_by_role("link", name="Order 42")).to_have_count(0)
    await page.get_by_label("Recipient").fill("")
    await page.get_by_label("Status").select_option("delivered")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name="Order 42")).to_be_visible()
    await expect(page.get_by_role("link", name="Order 43")).to_have_count(0)

    # Retry the deferred message now: its recipient is due at once.
    await page.goto(f"{served.base_url}/messages/{deferred_id}")
    await expect(page.get_by_role("region", name=re.compile(f"carol@{dead}"))).to_contain_text(
        "deferred"
    )
    await page.get_by_role("button", name="Retry now").click()
    await expect(page.get_by_role("status")).to_contain_text("1 recipient made due now")
    [waiting] = await node.store.list_queue(limit=10)
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at <= node.clock.now()
    await page.set_viewport_size(PHONE)
    await _shot(page, "05-retried-phone")
    await page.set_viewport_size(LAPTOP)

    # Cancel stops it and keeps it: nothing more is sent, and the message, its recipient
    # (now cancelled) and its attempt stay visible.
    await page.get_by_role("button", name="Cancel sending").click()
    await expect(page.get_by_role("status")).to_contain_text("1 recipient cancelled")
    carol = page.get_by_role("region", name=re.compile(f"carol@{dead}"))
    await expect(carol).to_contain_text("cancelled")
    await expect(carol.get_by_text("Attempt 1")).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel sending")).to_be_disabled()
    assert await node.store.list_queue(limit=10) == []
    await page.get_by_role("link", name="Messages").click()
    await expect(page.get_by_role("link", name="Order 43")).to_be_visible()

    # A new key is shown once; revoking the session's own key signs the browser out.
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_role("button", name="Create a key").click()
    new_key = await page.locator("#new-key").inner_text()
    assert new_key.startswith("pst_")
    await _shot(page, "06-new-key")
    await page.get_by_role("link", name="API keys").click()
    await expect(page.locator("#new-key")).to_have_count(0)
    await expect(page.get_by_role("button", name="Revoke")).to_have_count(2)
    await page.get_by_role("button", name=f"Revoke {served.token[:12]}").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/sign-in\?next=%2Fkeys$"))
    assert await node.services.keys.authenticate(served.token) is None
    await sign_in(page, served, new_key)
    await page.get_by_role("link", name="API keys").click()
    await expect(page.get_by_text("revoked", exact=True)).to_have_count(1)
    await _shot(page, "07-revoked")
    await page.get_by_role("button", name="Sign out").click()
    await page.goto(f"{served.base_url}/keys")
    await expect(page).to_have_url(re.compile(r"/dashboard/sign-in\?next=%2Fkeys$"))


async def test_forms_without_the_csrf_token_are_refused(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=10.0) as client:
        signed = await client.post("/sign-in", data={"api_key": served.token})
        assert signed.status_code == 303
        keys = await client.get("/keys")
        assert keys.status_code == 200
        [key_id] = re.findall(r'id="key-([^"]+)"', keys.text)
        forged = await client.post(f"/keys/{key_id}/revoke", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert await served.node.services.keys.authenticate(served.token) is not None


async def test_a_forged_cookie_is_sent_to_sign_in(served: Served) -> None:
    cookies = {"postillon_session": "0" * 64 + ".forged"}
    async with httpx.AsyncClient(base_url=served.base_url, cookies=cookies, timeout=10) as client:
        answer = await client.get("/messages")
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/dashboard/sign-in?next=%2Fmessages")


async def test_with_javascript_htmx_swaps_pages_in_place(served: Served, browser: Browser) -> None:
    page = await browser.new_page()
    await sign_in(page, served)
    await page.get_by_role("link", name="Messages").click()
    await expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    await page.wait_for_function("typeof window.htmx === 'object'")
    await page.evaluate("window.notReloaded = true")
    await page.get_by_role("link", name="Domains").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/domains$"))
    await expect(page.get_by_role("heading", name="Domains")).to_be_visible()
    await page.get_by_role("link", name="Messages").click()
    await page.get_by_label("Tag").fill("nothing-tagged")
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(r"tag=nothing-tagged"))
    await expect(page.get_by_text("No messages match.")).to_be_visible()
    assert await page.evaluate("window.notReloaded") is True
