"""The overview in a real browser over a real node that sent real mail: two deliveries over
verified STARTTLS, one in clear text, a 550 bounce (the address is then suppressed, and the next
message to it is not sent), a 451 deferral still waiting; the totals, bounce rate, TLS shares,
queue depth and oldest waiting message are right, the charts are images with their numbers as a
table, the range links switch to daily buckets, an unknown range is a 400 with a notice, and
another account sees nothing of it. JavaScript off, except where htmx is tested.
Screenshots: tests/artifacts/dashboard/overview-*.png."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.dashboard.browsing import shots, sign_in, signed_client
from tests.e2e.dashboard.overview_support import Post, open_post
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(90)
WAITED_S = 20 * 60  # the clock moves on after the sending: the deferred mail has waited


@pytest.fixture
async def post(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> AsyncIterator[Post]:
    async with open_post(tmp_path, test_dns, pki, smtp_receiver) as opened:
        yield opened


async def _sent_mail(post: Post) -> str:
    """Send the mail the tests count; the id of the message still waiting."""
    await post.send("Welcome", f"bob@{post.secure}")
    await post.send("Receipt", f"carol@{post.secure}")
    await post.send("Plain", f"dave@{post.legacy}")
    await post.send("Lost", f"gone@{post.legacy}")
    waiting_id = await post.send("Later", f"later@{post.legacy}")
    await post.served.node.engine.run_until_idle()
    await post.send("Again", f"gone@{post.legacy}")  # suppressed by the bounce
    post.served.clock.advance(WAITED_S)
    return waiting_id


async def _figure(page: Page, key: str) -> str:
    return (await page.locator(f"#stat-{key} .figure").inner_text()).strip()


async def _figures(page: Page) -> dict[str, str]:
    keys = ("sent", "delivered", "deferred", "bounced", "suppressed", "bounce-rate", "tls")
    return {key: await _figure(page, key) for key in (*keys, "verified")}


async def test_the_overview_counts_real_mail_for_its_account_only(
    post: Post, browser: Browser
) -> None:
    waiting_id = await _sent_mail(post)
    served = post.served
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()

    # Signing in lands on the overview, the last 24 hours by the hour.
    await sign_in(page, served)
    await expect(page).to_have_url(re.compile(r"/dashboard/overview$"))
    await expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    assert await _figures(page) == {
        "sent": "5",
        "delivered": "3",
        "deferred": "1",
        "bounced": "1",
        "suppressed": "1",
        "bounce-rate": "25%",
        "tls": "66.7%",
        "verified": "66.7%",
    }
    await expect(page.locator("#stat-tls")).to_contain_text("2 of 3 deliveries")
    await expect(page.locator("#queue-depth")).to_contain_text("1 recipient (0 queued, 1 deferred)")
    oldest = page.locator("#queue-oldest")
    await expect(oldest).to_contain_text("waiting for 20 min")
    await expect(page.get_by_role("link", name="24 hours")).to_have_attribute(
        "aria-current", "page"
    )

    # The charts are images named by their titles; their numbers are a table too.
    attempts = page.get_by_role("img", name="Delivery attempts per hour")
    await expect(attempts).to_be_visible()
    await expect(page.get_by_role("img", name="Recipients accepted per hour")).to_be_visible()
    await expect(attempts.locator("rect")).to_have_count(3)  # one bar: three segments
    await shots(page, "overview-24h")
    figure = page.get_by_role("figure", name="Delivery attempts per hour")
    await figure.get_by_text("The numbers as a table").click()
    table = figure.get_by_role("table", name="Delivery attempts per hour")
    row = table.get_by_role("row", name=re.compile(r"^29 Nov 04:00–05:00"))
    await expect(row.get_by_role("cell")).to_have_text(["3", "1", "1"])
    await expect(table.get_by_role("row")).to_have_count(24 + 2)  # header and total rows

    # Seven days, by the day: the same totals in today's bar.
    await page.get_by_role("link", name="7 days").click()
    await expect(page).to_have_url(re.compile(r"/overview\?range=7d$"))
    await expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")
    await expect(page.get_by_role("heading", name="Totals in the last 7 days")).to_be_visible()
    await expect(page.get_by_role("img", name="Delivery attempts per day")).to_be_visible()
    assert (await _figures(page))["delivered"] == "3"
    await shots(page, "overview-7d")

    # The oldest waiting message links to its page.
    await page.locator("#queue-oldest").get_by_role("link", name="Later").click()
    await expect(page).to_have_url(re.compile(f"/messages/{waiting_id}$"))

    # Another account sees none of it.
    _, other_token = await served.node.services.keys.create("other")
    other = await (await browser.new_context(java_script_enabled=False)).new_page()
    await sign_in(other, served, other_token)
    await expect(other).to_have_url(re.compile(r"/dashboard/overview$"))
    figures = await _figures(other)
    assert figures == {
        "sent": "0",
        "delivered": "0",
        "deferred": "0",
        "bounced": "0",
        "suppressed": "0",
        "bounce-rate": "—",
        "tls": "—",
        "verified": "—",
    }
    await expect(other.locator("#queue-oldest")).to_have_text("Nothing is waiting.")
    await expect(
        other.get_by_role("img", name="Delivery attempts per hour").locator("rect")
    ).to_have_count(0)
    await shots(other, "overview-empty")


async def test_an_unknown_range_is_a_400_with_a_notice(post: Post, browser: Browser) -> None:
    async with signed_client(post.served) as (client, _):
        answer = await client.get("/overview", params={"range": "1y"})
        fine = await client.get("/overview", params={"range": "30d"})
    assert answer.status_code == 400
    assert "There is no range “1y”" in answer.text
    assert 'aria-current="page">24 hours' in answer.text
    assert fine.status_code == 200
    assert 'aria-current="page">30 days' in fine.text

    page = await (await browser.new_context(java_script_enabled=False)).new_page()
    await sign_in(page, post.served)
    await page.goto(f"{post.served.base_url}/overview?range=1y")
    await expect(page.get_by_role("alert")).to_contain_text("showing the last 24 hours")
    await shots(page, "overview-bad-range")


async def test_with_javascript_the_range_links_swap_in_place(post: Post, browser: Browser) -> None:
    await _sent_mail(post)
    page = await browser.new_page()
    await sign_in(page, post.served)
    await page.wait_for_function("typeof window.htmx === 'object'")
    await page.evaluate("window.notReloaded = true")

    await page.get_by_role("link", name="30 days").click()

    await expect(page).to_have_url(re.compile(r"range=30d$"))
    await expect(page.get_by_role("heading", name="Totals in the last 30 days")).to_be_visible()
    assert await _figure(page, "sent") == "5"
    assert await page.evaluate("window.notReloaded") is True
