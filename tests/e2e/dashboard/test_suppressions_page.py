"""The suppressions page in a real browser (JavaScript off) over a real node: a hard bounce from
a refusing MX lists the address with a link to its message; search, add by hand (a malformed
address is an error on the page), remove, cursor pages; another account's rows are never shown
and cannot be removed."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from postillon.clock import FakeClock
from postillon.message.model import OutgoingEmail
from postillon.services.sending import SendRequest
from tests.e2e.dashboard.browsing import LAPTOP, shots, sign_in, signed_client
from tests.e2e.dashboard.conftest import Served, verified_domain
from tests.e2e.dashboard.manage_support import other_account
from tests.integration.services.conftest import new_domain
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(60)
REFUSING_MX = "127.0.0.234"


async def test_a_hard_bounce_is_listed_and_can_be_searched_added_and_removed(
    served: Served, browser: Browser, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    node, account = served.node, served.account
    await smtp_receiver(REFUSING_MX, rcpt_handler=lambda rcpt: "550 5.1.1 no such user")
    inbox = new_domain(test_dns, "inbox")
    test_dns.add_zone(inbox, f"@ MX 10 mx\nmx A {REFUSING_MX}")
    shop = await verified_domain(node, account, test_dns, "shop")
    email = OutgoingEmail(from_=f"alice@{shop}", to=(f"Gone@{inbox}",), subject="Order 7", text="x")
    sent = await node.services.sending.send(account, SendRequest(email=email))
    await node.engine.run_until_idle()
    rival, _ = await other_account(node)
    await node.store.suppress(rival.id, f"theirs@{inbox}", "bounce")

    page = await browser.new_page(java_script_enabled=False, viewport=LAPTOP)
    await sign_in(page, served)
    await page.get_by_role("link", name="Suppressions").click()
    table = page.get_by_role("table", name=re.compile(r"^Suppressed addresses"))
    await expect(table).to_have_accessible_name("Suppressed addresses, newest first")
    bounced = table.get_by_role("row", name=re.compile(f"gone@{inbox}"))
    await expect(bounced).to_contain_text("no such user")
    await expect(bounced.locator("time")).to_have_text(re.compile(r"^2\d{3}-\d\d-\d\d "))
    await expect(page.get_by_text(f"theirs@{inbox}")).to_have_count(0)
    await shots(page, "suppressions-01-bounced")

    # The source message is a link to its page.
    await bounced.get_by_role("link", name="Order 7").click()
    await expect(page).to_have_url(re.compile(f"/dashboard/messages/{sent.id}$"))
    await page.go_back()

    # Add by hand: a malformed address is refused on the page, a good one is listed "manual".
    add = page.get_by_role("form", name="Add an address")
    await add.get_by_label("Address to suppress").fill("carol at example")
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await add.get_by_role("button", name="Add").click()
    assert (await answer.value).status == 422
    await expect(page.get_by_role("alert")).to_contain_text("not a valid address")
    await expect(add.get_by_label("Address to suppress")).to_have_value("carol at example")
    await shots(page, "suppressions-02-invalid")
    await add.get_by_label("Address to suppress").fill("Carol@Example.TEST")
    await add.get_by_role("button", name="Add").click()
    await expect(page.get_by_role("status")).to_contain_text("carol@example.test was added")
    carol = table.get_by_role("row", name=re.compile("carol@example.test"))
    await expect(carol).to_contain_text("manual")
    await expect(table.get_by_role("row")).to_have_count(3)
    await expect(table.get_by_role("row").nth(1)).to_contain_text("carol@example.test")

    # Search: any part of the address, any case; LIKE wildcards match themselves.
    search = page.get_by_role("search")
    await search.get_by_label("Address contains").fill("GONE@")
    await search.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(r"\?q=GONE%40$"))
    await expect(table).to_have_accessible_name(
        "Suppressed addresses containing “GONE@”, newest first"
    )
    await expect(table.get_by_role("row")).to_have_count(2)
    await expect(table).to_contain_text(f"gone@{inbox}")
    await search.get_by_label("Address contains").fill("_")
    await search.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("No suppressed address contains “_”.")).to_be_visible()
    await page.get_by_role("link", name="Clear").click()
    await expect(table.get_by_role("row")).to_have_count(3)

    # Remove: a confirmation, and mail to the address is sent again.
    await page.get_by_role("button", name=f"Remove gone@{inbox}").click()
    await expect(page.get_by_role("status")).to_contain_text(f"gone@{inbox} was removed")
    await expect(table.get_by_role("row")).to_have_count(2)
    await shots(page, "suppressions-03-removed")
    listed = await node.store.list_suppressions(account.id, limit=10)
    assert [row.address for row in listed] == ["carol@example.test"]
    assert [row.address for row in await node.store.list_suppressions(rival.id, limit=10)] == [
        f"theirs@{inbox}"
    ]


async def test_pages_follow_the_cursor_and_keep_the_search(
    served: Served, browser: Browser
) -> None:
    store, account, clock = served.node.store, served.account, served.node.clock
    assert isinstance(clock, FakeClock)
    for index in range(53):
        await store.suppress(account.id, f"user{index:02d}@list.test", "bounce")
        clock.advance(1)
    await store.suppress(account.id, "else@other.test", "manual")
    page = await browser.new_page(java_script_enabled=False, viewport=LAPTOP)
    await sign_in(page, served)
    await page.goto(f"{served.base_url}/suppressions?q=list.test")
    table = page.get_by_role("table")
    await expect(table.get_by_role("row")).to_have_count(51)
    await expect(table.get_by_role("row").nth(1)).to_contain_text("user52@list.test")
    await page.get_by_role("link", name="Older suppressions").click()
    await expect(page).to_have_url(re.compile(r"\?q=list.test&cursor="))
    await expect(table.get_by_role("row")).to_have_count(4)
    await expect(table).to_contain_text("user00@list.test")
    await expect(table).not_to_contain_text("else@other.test")
    await expect(page.get_by_role("link", name="Older suppressions")).to_have_count(0)
    await page.get_by_role("link", name="Newest").click()
    await expect(table.get_by_role("row").nth(1)).to_contain_text("user52@list.test")
    await page.goto(f"{served.base_url}/suppressions?cursor=not-a-cursor")
    await expect(page.get_by_role("alert")).to_contain_text("expired")


async def test_another_accounts_rows_cannot_be_removed_or_seen(served: Served) -> None:
    store = served.node.store
    rival, rival_token = await other_account(served.node)
    await store.suppress(rival.id, "theirs@x.test", "bounce")
    await store.suppress(served.account.id, "ours@x.test", "bounce")
    async with signed_client(served, served.token) as (client, csrf):
        listing = await client.get("/suppressions", params={"q": "x.test"})
        assert "ours@x.test" in listing.text
        assert "theirs@x.test" not in listing.text
        removed = await client.post(
            "/suppressions/remove", data={"csrf": csrf, "address": "theirs@x.test"}
        )
        assert removed.status_code == 303
        assert "absent" in removed.headers["location"]
        forged = await client.post(
            "/suppressions/remove", data={"csrf": "forged", "address": "ours@x.test"}
        )
        assert forged.status_code == 403
        forged_add = await client.post(
            "/suppressions", data={"csrf": "forged", "address": "new@x.test"}
        )
        assert forged_add.status_code == 403
    async with signed_client(served, rival_token) as (client, _):
        theirs = await client.get("/suppressions")
        assert "theirs@x.test" in theirs.text
        assert "ours@x.test" not in theirs.text
    assert [r.address for r in await store.list_suppressions(rival.id, limit=5)] == [
        "theirs@x.test"
    ]
    assert [r.address for r in await store.list_suppressions(served.account.id, limit=5)] == [
        "ours@x.test"
    ]
