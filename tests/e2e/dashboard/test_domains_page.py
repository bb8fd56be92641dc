"""The domains pages in a real browser over a real node and the knot test DNS: add a domain from
the page (a bad name is an error on the page, never a 500), see each record's expected value
beside what DNS holds after "Verify now", copy values with JavaScript on, delete a domain; and
another account's domain is never shown or deleted."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from postillon.services.domain_views import DomainStatus
from tests.e2e.dashboard.browsing import LAPTOP, shots, sign_in, signed_client
from tests.e2e.dashboard.conftest import Served, verified_domain
from tests.e2e.dashboard.manage_support import other_account
from tests.integration.services.conftest import new_domain
from tests.integration.services.publish import publish
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)
WRONG_SPF = "v=spf1 ip4:192.0.2.1 -all"


async def test_add_a_domain_verify_it_and_see_expected_beside_found(
    served: Served, browser: Browser, test_dns: TestDns
) -> None:
    node, account = served.node, served.account
    page = await browser.new_page(java_script_enabled=False, viewport=LAPTOP)
    await sign_in(page, served)
    await page.goto(f"{served.base_url}/domains")
    form = page.get_by_role("form", name="Add a domain")

    # Names that are not sender domains: an error on the page, the name kept for fixing.
    for bad, says in (("localhost", "single label"), ("shop..test", "not a valid domain")):
        await form.get_by_label("Domain name").fill(bad)
        async with page.expect_response(lambda r: r.request.method == "POST") as answer:
            await form.get_by_role("button", name="Add domain").click()
        assert (await answer.value).status == 422
        await expect(page.get_by_role("alert")).to_contain_text(says)
        await expect(form.get_by_label("Domain name")).to_have_value(bad)
    await shots(page, "domains-01-invalid-name")
    assert await node.services.domains.list(account) == []

    # A real name: the domain page with the records to publish, nothing checked yet.
    shop = new_domain(test_dns, "shop")
    await form.get_by_label("Domain name").fill(shop.upper())
    await form.get_by_role("button", name="Add domain").click()
    await expect(page).to_have_url(re.compile(f"/dashboard/domains/{re.escape(shop)}\\?added=1$"))
    await expect(page.get_by_role("status").filter(has_text=f"{shop} was added")).to_be_visible()
    added = await node.services.domains.get(account, shop)
    records = page.get_by_role("table", name="Records to publish")
    await expect(records.get_by_role("row")).to_have_count(len(added.records) + 1)
    await expect(records.get_by_text("not checked yet", exact=True)).to_have_count(
        len(added.records)
    )
    # Without JavaScript there are no copy buttons; the values are plain text.
    await expect(page.get_by_role("button", name=re.compile("^Copy"))).to_have_count(0)

    # Publish every record but a wrong SPF: Verify now shows expected beside found.
    spf = next(r for r in added.records if r.purpose == "spf")
    others = [r for r in added.records if r is not spf]
    publish(test_dns, shop, others, f'{spf.name}. TXT "{WRONG_SPF}"')
    await page.get_by_role("button", name="Verify now").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("failed")
    spf_row = records.get_by_role("row").filter(has_text="SPF (sending addresses)")
    await expect(spf_row.get_by_role("cell").nth(2).locator("code")).to_have_text(spf.value)
    await expect(spf_row.get_by_role("cell").nth(3)).to_have_text(WRONG_SPF)
    await expect(spf_row.get_by_role("cell").nth(4)).to_contain_text("mismatch")
    dkim = next(r for r in added.records if r.purpose == "dkim")
    dkim_row = records.get_by_role("row").filter(has_text="DKIM key")
    await expect(dkim_row.get_by_role("cell").nth(1).locator("code")).to_have_text(dkim.name)
    await expect(dkim_row.get_by_role("cell").nth(3)).to_contain_text("v=DKIM1")
    await expect(dkim_row.get_by_role("cell").nth(4)).to_contain_text("verified")
    await expect(page.get_by_text(re.compile(r"last check 2\d{3}-"))).to_be_visible()
    await shots(page, "domains-02-mismatch")

    # Fixed in DNS: verified.
    publish(test_dns, shop, added.records)
    await page.get_by_role("button", name="Verify now").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("verified")
    await expect(spf_row.get_by_role("cell").nth(3)).to_have_text(spf.value)
    assert (await node.services.domains.get(account, shop)).status is DomainStatus.VERIFIED

    # The list shows it; adding it again says so.
    await page.get_by_role("link", name="Domains").click()
    await expect(page.get_by_role("link", name=shop)).to_be_visible()
    await form.get_by_label("Domain name").fill(shop)
    await form.get_by_role("button", name="Add domain").click()
    await expect(page.get_by_role("alert")).to_contain_text("already one of your domains")
    await shots(page, "domains-03-list")

    # Delete it from its page.
    await page.get_by_role("link", name=shop).click()
    await page.get_by_text("Delete this domain").click()
    await page.get_by_role("button", name=f"Delete {shop}").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/domains\?deleted="))
    await expect(page.get_by_role("status")).to_contain_text(f"{shop} was deleted")
    await expect(page.get_by_role("link", name=shop)).to_have_count(0)
    assert await node.services.domains.list(account) == []


async def test_copy_buttons_copy_the_name_and_the_expected_value(
    served: Served, browser: Browser, test_dns: TestDns
) -> None:
    shop = new_domain(test_dns, "copy")
    added = await served.node.services.domains.add(served.account, shop)
    dkim = next(r for r in added.records if r.purpose == "dkim")
    context = await browser.new_context(viewport=LAPTOP)
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    await sign_in(page, served)
    # Through the links: the nav (htmx-boosted) to the list, the list to the domain.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Domains").click()
    await page.get_by_role("link", name=shop).click()
    await expect(page).to_have_url(re.compile(f"/dashboard/domains/{re.escape(shop)}$"))
    copy_value = page.get_by_role("button", name="Copy the value of the DKIM key record")
    await copy_value.click()
    await expect(copy_value).to_have_text("Copied")
    await expect(page.locator("#copy-status")).to_have_text(
        "Copied the value of the DKIM key record."
    )
    assert await page.evaluate("navigator.clipboard.readText()") == dkim.value
    await page.get_by_role("button", name="Copy the name of the DKIM key record").click()
    assert await page.evaluate("navigator.clipboard.readText()") == dkim.name
    # Every record has both buttons; the feedback reverts.
    await expect(page.get_by_role("button", name=re.compile("^Copy the"))).to_have_count(
        2 * len(added.records)
    )
    await expect(copy_value).to_have_text("Copy", timeout=5000)
    await shots(page, "domains-04-copy-buttons")
    await context.close()


async def test_another_accounts_domain_is_never_shown_or_deleted(
    served: Served, test_dns: TestDns
) -> None:
    node = served.node
    rival, _ = await other_account(node)
    theirs = await verified_domain(node, rival, test_dns, "theirs")
    ours = new_domain(test_dns, "ours")
    await node.services.domains.add(served.account, ours)
    async with signed_client(served, served.token) as (client, csrf):
        listing = await client.get("/domains")
        assert theirs not in listing.text
        assert (await client.get(f"/domains/{theirs}")).status_code == 404
        deleted = await client.post(f"/domains/{theirs}/delete", data={"csrf": csrf})
        assert deleted.status_code == 404
        verified = await client.post(f"/domains/{theirs}/verify", data={"csrf": csrf})
        assert verified.status_code == 404
        # A name that is not a domain at all is unknown too, not a server error.
        assert (await client.get("/domains/not..a..domain")).status_code == 404
        # Every form needs the session's CSRF token, even on the account's own domain.
        for path, fields in (
            ("/domains", {"name": "x.test"}),
            (f"/domains/{ours}/verify", {}),
            (f"/domains/{ours}/delete", {}),
        ):
            forged = await client.post(path, data={"csrf": "forged", **fields})
            assert forged.status_code == 403, path
    assert [d.name for d in await node.services.domains.list(rival)] == [theirs]
    [still] = await node.services.domains.list(served.account)
    assert (still.name, still.last_checked_at) == (ours, None)
