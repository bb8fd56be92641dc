"""The webhook pages in a real browser (JavaScript off) over a real node and a real receiver:
add an endpoint (its secret shown once), refused URLs shown as errors, a test event that
arrives signed and is logged, an event replayed from the log, disable and enable, rotate the
secret, delete after a confirmation page; with JavaScript on, the new secret's copy button.
Then, over HTTP: another account's endpoint is not found, forms without the CSRF token are
refused, the log pages back, and a failed test event and refused settings read as errors on
the page.
Screenshots go to tests/artifacts/dashboard/ for review."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from postillon.events import EventType
from tests.e2e.dashboard.browsing import shots, sign_in, signed_client
from tests.e2e.dashboard.webhooks_support import SILENT_ADDRESS, Hooked, open_hooked
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def hooked(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[Hooked]:
    async with open_hooked(tmp_path, test_dns) as opened:
        yield opened


async def _add(page: Page, url: str, events: tuple[str, ...] = ()) -> None:
    await page.get_by_label("Endpoint URL").fill(url)
    if events:
        await page.get_by_label("Only the events checked below").check()
        for name in events:
            await page.get_by_label(name, exact=True).check()
    await page.get_by_role("button", name="Add endpoint").click()


async def test_add_test_replay_disable_rotate_and_delete_an_endpoint(
    hooked: Hooked, browser: Browser
) -> None:
    served, inbox, node = hooked.served, hooked.inbox, hooked.node
    page = await browser.new_page(java_script_enabled=False)
    await sign_in(page, served)
    await page.get_by_role("link", name="Webhooks").click()
    await expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    await expect(page.get_by_text("No endpoints yet")).to_be_visible()

    # Refused URLs: the reason is on the page, with what was typed, never a 500.
    await _add(page, "http://10.1.2.3/hook")
    await expect(page.get_by_role("alert")).to_contain_text("private (RFC 1918)")
    await expect(page.get_by_label("Endpoint URL")).to_have_value("http://10.1.2.3/hook")
    await expect(page.get_by_label("Endpoint URL")).to_have_attribute("aria-invalid", "true")
    await shots(page, "webhooks-refused")
    await _add(page, "ftp://example.com/hook")
    await expect(page.get_by_role("alert")).to_contain_text("only http and https")
    # "Only these events" with none checked: refused, the choice kept.
    await page.get_by_label("Endpoint URL").fill(f"http://{SILENT_ADDRESS}:1/hook")
    await page.get_by_label("Only the events checked below").check()
    await page.get_by_role("button", name="Add endpoint").click()
    await expect(page.get_by_role("alert")).to_contain_text("choose at least one event type")
    await expect(page.get_by_label("Only the events checked below")).to_be_checked()
    await expect(page.get_by_role("group", name="Events to receive")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert await node.webhooks.list(served.account.id) == []

    # Added: the secret is shown this once, and the answer is not stored.
    async with page.expect_navigation() as navigation:
        await _add(page, inbox.url(), ("email.queued", "email.delivered"))
    response = await navigation.value
    assert response is not None
    assert response.headers["cache-control"] == "no-store"
    secret = await page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_")
    inbox.secrets.append(secret)
    await expect(page.get_by_role("heading", level=1)).to_contain_text(inbox.url())
    await shots(page, "webhooks-added")
    await page.get_by_role("link", name="Webhooks", exact=True).first.click()
    endpoints = page.get_by_role("table", name="Endpoints")
    await expect(endpoints).to_contain_text("email.delivered, email.queued")
    await expect(endpoints).to_contain_text("enabled")
    await shots(page, "webhooks-list")
    await endpoints.get_by_role("link", name=inbox.url()).click()
    await expect(page.locator("#new-secret")).to_have_count(0)
    assert secret not in await page.content()

    # A test event of the chosen type arrives signed, and its result and log row are shown.
    await page.get_by_label("Event type", exact=True).select_option("email.bounced")
    await page.get_by_role("button", name="Send test event").click()
    outcome = page.get_by_role("status").filter(has_text="Test event")
    await expect(outcome).to_contain_text("Delivered: HTTP 204")
    [tested] = await inbox.wait_for(1)
    assert tested.verified_by == (0,)
    assert tested.payload["type"] == "email.bounced"
    assert tested.payload["data"]["test"] is True
    log = page.get_by_role("table", name="Delivery attempts, newest first")
    await expect(log).to_contain_text(tested.webhook_id)
    await expect(log).to_contain_text("test event")
    await expect(log.get_by_role("button", name=f"Replay {tested.webhook_id}")).to_have_count(0)

    # A real event, delivered by the dispatcher, then replayed from the log: the same id and
    # body arrive again.
    await hooked.send_email("Order 42")
    await node.dispatcher.run_until_idle()
    delivered = await inbox.wait_for(2)
    [queued] = [a for a in delivered if a.payload["type"] == "email.queued"]
    assert queued.verified_by == (0,)
    # (Not a reload: the page answers the test form's POST, which a reload would send again.)
    endpoint_url = f"{served.base_url}/webhooks/{endpoint_in_url(page)}"
    await page.goto(endpoint_url)
    await expect(log).to_contain_text(queued.webhook_id)
    await shots(page, "webhooks-log")
    await log.get_by_role("button", name=f"Replay {queued.webhook_id}").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Event {queued.webhook_id} is queued to be sent again"
    )
    await node.dispatcher.run_until_idle()
    again = (await inbox.wait_for(3))[2]
    assert (again.webhook_id, again.body) == (queued.webhook_id, queued.body)
    await page.goto(endpoint_url)
    await expect(log.get_by_role("row").filter(has_text=queued.webhook_id)).to_have_count(2)

    # Disable (the reason is shown), then enable again.
    await page.get_by_role("button", name="Disable").click()
    await expect(page.get_by_role("status")).to_contain_text("The endpoint is disabled")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("disabled")
    await expect(page.get_by_role("region", name="Settings")).to_contain_text("disabled by request")
    assert not (await node.webhooks.get(served.account.id, endpoint_in_url(page))).enabled
    await shots(page, "webhooks-disabled")
    await page.get_by_role("button", name="Enable").click()
    await expect(page.get_by_role("status")).to_contain_text("The endpoint is enabled")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("enabled")

    # Rotate: a new secret, shown once; both sign during the overlap.
    await page.get_by_role("button", name="Rotate the secret").click()
    rotated = await page.locator("#new-secret").inner_text()
    assert rotated.startswith("whsec_")
    assert rotated != secret
    await expect(page.get_by_role("status").first).to_contain_text("previous secret keeps signing")
    inbox.secrets.append(rotated)
    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status").filter(has_text="Test event")).to_contain_text(
        "Delivered"
    )
    assert (await inbox.wait_for(4))[3].verified_by == (0, 1)

    # Delete, after a confirmation page.
    await page.get_by_role("link", name="Delete…").click()
    await expect(page.get_by_role("heading", name="Delete this endpoint?")).to_be_visible()
    await shots(page, "webhooks-delete")
    await page.get_by_role("button", name="Delete the endpoint").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/webhooks\?deleted="))
    await expect(page.get_by_role("status")).to_contain_text("was deleted")
    await expect(page.get_by_text("No endpoints yet")).to_be_visible()
    assert await node.webhooks.list(served.account.id) == []


async def test_the_new_secret_has_a_copy_button_with_javascript(
    hooked: Hooked, browser: Browser
) -> None:
    context = await browser.new_context()
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    await sign_in(page, hooked.served)
    await page.goto(f"{hooked.served.base_url}/webhooks")
    await _add(page, hooked.inbox.url())
    secret = await page.locator("#new-secret").inner_text()
    copy = page.get_by_role("button", name="Copy the signing secret")
    await copy.click()
    await expect(copy).to_have_text("Copied")
    await expect(page.locator("#copy-status")).to_have_text("Copied the signing secret.")
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    # The endpoint's page, opened again, has neither the secret nor its button.
    [endpoint] = await hooked.node.webhooks.list(hooked.served.account.id)
    await page.goto(f"{hooked.served.base_url}/webhooks/{endpoint.id}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(hooked.inbox.url())
    await expect(page.get_by_role("button", name="Copy the signing secret")).to_have_count(0)
    assert secret not in await page.content()
    await context.close()


def endpoint_in_url(page: Page) -> str:
    """The endpoint id in the page's URL."""
    found = re.search(r"/webhooks/([^/?]+)", page.url)
    assert found is not None
    return found.group(1)


async def test_another_accounts_endpoint_is_not_found(hooked: Hooked) -> None:
    node, served = hooked.node, hooked.served
    _, other_token = await node.services.keys.create("intruder")
    other = await node.services.keys.authenticate(other_token)
    assert other is not None
    theirs = await node.webhooks.create(other.id, hooked.inbox.url("/theirs"))
    endpoint_id = theirs.endpoint.id
    async with signed_client(served) as (client, csrf):
        page = await client.get("/webhooks")
        form = {"csrf": csrf}
        assert endpoint_id not in page.text
        for path in ("", "/delete"):
            assert (await client.get(f"/webhooks/{endpoint_id}{path}")).status_code == 404
        posts = {
            "enabled": {"enabled": "false"},
            "rotate-secret": {},
            "test": {"event_type": "email.delivered"},
            "replay": {"event_id": "msg_nothing"},
            "settings": {"url": hooked.inbox.url("/mine"), "scope": "all"},
            "delete": {},
        }
        for action, fields in posts.items():
            answer = await client.post(f"/webhooks/{endpoint_id}/{action}", data=form | fields)
            assert answer.status_code == 404, action
            assert "Not found" in answer.text
    after = await node.webhooks.get(other.id, endpoint_id)
    assert (after.enabled, after.url, after.previous_secret_until) == (
        True,
        hooked.inbox.url("/theirs"),
        None,
    )
    assert (hooked.inbox.deliveries, hooked.inbox.rejected) == ([], [])
    assert await node.webhooks.delivery_log(other.id, endpoint_id) == []


async def test_forms_without_the_csrf_token_are_refused(hooked: Hooked) -> None:
    node, served = hooked.node, hooked.served
    mine = await node.webhooks.create(served.account.id, hooked.inbox.url())
    endpoint_id = mine.endpoint.id
    async with signed_client(served) as (client, _):
        refused = [
            await client.post(path, data={"csrf": "forged", **fields})
            for path, fields in (
                ("/webhooks", {"url": hooked.inbox.url("/other"), "scope": "all"}),
                (f"/webhooks/{endpoint_id}/enabled", {"enabled": "false"}),
                (f"/webhooks/{endpoint_id}/rotate-secret", {}),
                (f"/webhooks/{endpoint_id}/test", {}),
                (f"/webhooks/{endpoint_id}/replay", {"event_id": "evt_x"}),
                (
                    f"/webhooks/{endpoint_id}/settings",
                    {"url": hooked.inbox.url("/moved"), "scope": "all"},
                ),
                (f"/webhooks/{endpoint_id}/delete", {}),
            )
        ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    [still] = await node.webhooks.list(served.account.id)
    assert (still.enabled, still.previous_secret_until, still.url) == (
        True,
        None,
        hooked.inbox.url(),
    )
    assert (hooked.inbox.deliveries, hooked.inbox.rejected) == ([], [])


async def test_log_paging_a_failed_test_and_refused_settings(hooked: Hooked) -> None:
    node, served, inbox = hooked.node, hooked.served, hooked.inbox
    account_id = served.account.id
    mine = await node.webhooks.create(account_id, inbox.url())
    inbox.secrets.append(mine.secret)
    endpoint_id = mine.endpoint.id
    for _ in range(26):  # one more than a page
        await node.webhooks.send_test(account_id, endpoint_id, EventType.EMAIL_DELIVERED)
    async with signed_client(served) as (client, token):
        first = await client.get(f"/webhooks/{endpoint_id}")
        older = re.search(r'href="([^"]+\?before=(\d+))" rel="next"', first.text)
        assert older is not None
        assert first.text.count('<tr class="hook-attempt-ok">') == 25
        second = await client.get(older.group(1))
        assert second.text.count('<tr class="hook-attempt-ok">') == 1
        assert 'rel="next"' not in second.text
        assert ">Newest</a>" in second.text
        broken = await client.get(f"/webhooks/{endpoint_id}", params={"before": "-1"})
        assert broken.status_code == 200
        assert "That page link is not valid" in broken.text

        # Nothing listens on the silent address: the test event fails, and says why.
        silent = await node.webhooks.create(account_id, f"http://{SILENT_ADDRESS}:1/hook")
        failed = await client.post(
            f"/webhooks/{silent.endpoint.id}/test",
            data={"csrf": token, "event_type": "domain.verified"},
        )
        assert failed.status_code == 200
        assert "Failed: connect" in failed.text
        assert "no response" in failed.text
        unknown = await client.post(
            f"/webhooks/{endpoint_id}/test", data={"csrf": token, "event_type": "email.nope"}
        )
        assert unknown.status_code == 422
        assert "is not an event type" in unknown.text

        settings = f"/webhooks/{endpoint_id}/settings"
        private = await client.post(
            settings, data={"csrf": token, "url": "http://192.168.1.1/", "scope": "all"}
        )
        assert private.status_code == 422
        assert "private (RFC 1918)" in private.text
        none_chosen = await client.post(
            settings, data={"csrf": token, "url": inbox.url(), "scope": "some"}
        )
        assert none_chosen.status_code == 422
        assert "choose at least one event type" in none_chosen.text
        changed = await client.post(
            settings,
            data={
                "csrf": token,
                "url": inbox.url("/moved"),
                "scope": "some",
                "events": ["email.bounced", "email.expired"],
            },
        )
        assert changed.status_code == 303
        shown = await client.get(changed.headers["location"])
        assert "The settings were saved." in shown.text
        replay_test = await client.post(
            f"/webhooks/{endpoint_id}/replay",
            data={"csrf": token, "event_id": inbox.deliveries[0].webhook_id},
        )
        assert replay_test.status_code == 404
        assert "test events are not kept" in replay_test.text
    view = await node.webhooks.get(account_id, endpoint_id)
    assert view.url == inbox.url("/moved")
    assert view.event_filter.as_json() == ["email.bounced", "email.expired"]
