"""The message pages in a real browser over a real node: search by subject, sender and
Message-ID (cursor pages keep the search); the content of a message (text in a <pre>, the HTML
part in a sandboxed frame served with a CSP: its script does not run, remote images are not
fetched); each recipient's timeline of attempts (MX host, IP, reply, duration, the TLS badge
and the MTA-STS mode), retry now; the session transcript of an attempt on its own page
(JavaScript off) and inline (htmx); cancel, which keeps the message and its history while the
engine sends nothing more; and another account's message is a 404 everywhere. Screenshots:
tests/artifacts/dashboard/messages-*.png."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.queue.stream import Stream
from tests.e2e.dashboard.browsing import shots, sign_in, signed_client
from tests.e2e.dashboard.messages_support import (
    DEAD_MX_ADDRESS,
    MX_ADDRESS,
    POLICY_ID,
    Mailroom,
    open_mailroom,
)
from tests.integration.services.conftest import new_domain
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(90)
# Sandboxed again, and framed only by the dashboard's own message page.
CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)
# A 1x1 GIF: embedded images are allowed in the sandbox.
DOT = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


@pytest.fixture
async def room(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> AsyncIterator[Mailroom]:
    async with open_mailroom(tmp_path, test_dns, pki, smtp_receiver) as mailroom:
        yield mailroom


async def _links(page: Page) -> list[str]:
    return await page.locator("table.messages tbody a").all_inner_texts()


def _fact(scope: Locator, term: str) -> Locator:
    """The value beside ``term`` in the attempt facts within ``scope``."""
    return scope.locator(f"dt:text-is('{term}') + dd")


async def _search(page: Page, **fields: str) -> None:
    labels = {"subject": "Subject", "sender": "Sender", "message_id": "Message-ID"}
    for name, label in labels.items():
        await page.get_by_label(label).fill(fields.get(name, ""))
    await page.get_by_role("button", name="Search").click()


async def test_search_by_subject_sender_and_message_id(room: Mailroom, browser: Browser) -> None:
    await room.send("Invoice 42")
    await room.send("Weekly news", sender=f"Editor <editor@{room.news}>")
    order = await room.send("Order 7", to=(f"carol@{room.inbox}",))
    stored = await room.node.store.get_message(order)
    assert stored is not None
    page = await browser.new_page(java_script_enabled=False)
    await sign_in(page, room.served)
    await page.get_by_role("link", name="Messages").click()
    assert sorted(await _links(page)) == ["Invoice 42", "Order 7", "Weekly news"]

    await _search(page, subject="INVOICE")
    assert await _links(page) == ["Invoice 42"]
    await expect(page.get_by_label("Subject")).to_have_value("INVOICE")
    await _search(page, sender="editor@NEWS")
    assert await _links(page) == ["Weekly news"]
    await _search(page, sender=room.shop)
    assert sorted(await _links(page)) == ["Invoice 42", "Order 7"]
    await _search(page, message_id=stored.header_message_id.strip("<>"))
    assert await _links(page) == ["Order 7"]
    await shots(page, "messages-search")
    await _search(page, message_id=stored.header_message_id, subject="invoice")
    await expect(page.get_by_text("No messages match.")).to_be_visible()

    # Cursor pages keep the search: 26 matches, 25 on the first page, the last on the next.
    for n in range(26):
        await room.send(f"Bulk {n:02}")
    await _search(page, subject="bulk")
    first = await _links(page)
    assert len(first) == 25
    assert all(text.startswith("Bulk") for text in first)
    await page.get_by_role("link", name="Older messages").click()
    await expect(page).to_have_url(re.compile(r"subject=bulk.*cursor=|cursor=.*subject=bulk"))
    [last] = await _links(page)
    assert last.startswith("Bulk")
    assert last not in first
    await expect(page.get_by_label("Subject")).to_have_value("bulk")


async def test_the_content_is_shown_and_the_html_part_is_sandboxed(
    room: Mailroom, browser: Browser
) -> None:
    probe = f"{room.served.base_url}/remote-probe.png"
    html = (
        "<h1 style='color:#0969da'>Your order</h1>"
        '<p id="probe">script did not run</p>'
        "<script>document.getElementById('probe').textContent = 'script ran';"
        "parent.document.title = 'pwned';</script>"
        f'<img id="remote" src="{probe}" alt="remote"><img id="inline" src="{DOT}" alt="dot">'
    )
    email_id = await room.send("Your order", text="Plain words here.\nSecond line.", html=html)
    page = await browser.new_page()  # JavaScript on: the mail's script would run if allowed
    answered: list[str] = []
    blocked: list[str | None] = []
    page.on("response", lambda response: answered.append(response.url))
    page.on(
        "requestfailed",
        lambda request: blocked.append(request.failure) if request.url == probe else None,
    )
    await sign_in(page, room.served)
    async with page.expect_response(re.compile(r"/html$")) as html_response:
        await page.goto(f"{room.served.base_url}/messages/{email_id}")
    answer = await html_response.value
    headers = await answer.all_headers()
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-type"].startswith("text/html")

    content = page.get_by_role("region", name="Content")
    await expect(content.locator("pre")).to_have_text("Plain words here.\nSecond line.")
    frame_element = content.locator("iframe")
    assert await frame_element.get_attribute("sandbox") == ""
    await expect(content).to_contain_text("scripts, forms and remote images are blocked")
    frame = page.frame_locator("iframe.body-html")
    await expect(frame.get_by_role("heading", name="Your order")).to_be_visible()
    await expect(frame.locator("#probe")).to_have_text("script did not run")
    loaded = await frame.locator("#inline").evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 1
    # Chromium refused the remote image itself (the CSP): it never reached the server.
    assert probe not in answered
    assert blocked == ["csp"]
    assert await page.title() != "pwned"

    headers_card = page.get_by_role("region", name="Header fields")
    await headers_card.get_by_text("header fields, in order").click()
    fields = headers_card.get_by_role("table")
    await expect(fields.get_by_role("rowheader", name="DKIM-Signature")).to_be_visible()
    await expect(fields).to_contain_text("Your order")
    await shots(page, "messages-content")

    # Without JavaScript the page reads the same.
    reader = await browser.new_page(java_script_enabled=False)
    await sign_in(reader, room.served)
    await reader.goto(f"{room.served.base_url}/messages/{email_id}")
    await expect(reader.locator("pre.body-text")).to_contain_text("Plain words here.")
    await expect(reader.locator("iframe[sandbox]")).to_have_count(1)


async def test_a_message_without_html_says_so(room: Mailroom, browser: Browser) -> None:
    email_id = await room.send("Only text", text="Just words.")
    page = await browser.new_page(java_script_enabled=False)
    await sign_in(page, room.served)
    await page.goto(f"{room.served.base_url}/messages/{email_id}")
    content = page.get_by_role("region", name="Content")
    await expect(content).to_contain_text("This message has no HTML part.")
    await expect(content.locator("iframe")).to_have_count(0)
    async with signed_client(room.served) as (client, _):
        assert (await client.get(f"/messages/{email_id}/html")).status_code == 404


async def test_the_timeline_shows_each_attempt_with_tls_and_mta_sts_and_retry_adds_one(
    room: Mailroom, browser: Browser
) -> None:
    email_id = await room.send("Tracked", to=(f"bob@{room.sts}", f"carol@{room.dead}"))
    await room.node.engine.run_until_idle()
    [received] = await room.receiver.wait_for(1)
    assert received.rcpt_tos == (f"bob@{room.sts}",)

    page = await browser.new_page(java_script_enabled=False)
    await sign_in(page, room.served)
    await page.goto(f"{room.served.base_url}/messages/{email_id}")
    envelope = page.get_by_role("region", name="Envelope")
    await expect(envelope).to_contain_text(f"bob@{room.sts}")
    await expect(envelope).to_contain_text(f"carol@{room.dead}")

    bob = page.get_by_role("region", name=re.compile(re.escape(f"bob@{room.sts}")))
    await expect(bob.locator(".status")).to_have_text("delivered")
    [attempt] = await bob.locator(".timeline > li").all()
    await expect(attempt).to_contain_text("Attempt 1")
    await expect(attempt.locator(".when")).to_contain_text(" ms")
    await expect(_fact(attempt, "MX host")).to_have_text(f"mx.{room.inbox}")
    await expect(_fact(attempt, "IP")).to_have_text(MX_ADDRESS)
    await expect(_fact(attempt, "Reply")).to_contain_text("250 2.0.0")
    await expect(attempt.locator(".tls")).to_have_text("TLS verified")
    await expect(attempt.locator(".tls-detail")).to_contain_text(str(received.tls_version))
    await expect(_fact(attempt, "MTA-STS")).to_have_text(f"enforce (policy {POLICY_ID})")

    carol = page.get_by_role("region", name=re.compile(re.escape(f"carol@{room.dead}")))
    await expect(carol.locator(".status")).to_have_text("deferred")
    await expect(carol).to_contain_text("1 attempt; next at")
    await expect(carol.locator(".tls")).to_have_text("no TLS")
    await expect(_fact(carol, "MX host")).to_have_text(f"mx.{room.dead}")
    await expect(_fact(carol, "IP")).to_have_text(DEAD_MX_ADDRESS)
    await expect(_fact(carol, "MTA-STS")).to_have_text("no policy")
    await shots(page, "messages-timeline")

    # Retry now: carol is due at once; the engine tries again and the timeline grows in order.
    await page.get_by_role("button", name="Retry now").click()
    await expect(page.get_by_role("status")).to_have_text("1 recipient made due now.")
    await room.node.engine.run_until_idle()
    await page.reload()
    carol = page.get_by_role("region", name=re.compile(re.escape(f"carol@{room.dead}")))
    steps = carol.locator(".timeline > li strong")
    await expect(steps).to_have_text(["Attempt 1", "Attempt 2"])
    await expect(carol).to_contain_text("2 attempts; next at")
    assert len(room.receiver.messages) == 1


async def test_the_session_transcript_on_its_own_page_and_inline(
    room: Mailroom, browser: Browser
) -> None:
    email_id = await room.send("Delivered")
    await room.node.engine.run_until_idle()
    [received] = await room.receiver.wait_for(1)
    assert received.tls_version is not None

    page = await browser.new_page(java_script_enabled=False)
    await sign_in(page, room.served)
    await page.goto(f"{room.served.base_url}/messages/{email_id}")
    await page.get_by_role("link", name="Session transcript").click()
    await expect(page).to_have_url(re.compile(r"/attempts/\d+/transcript$"))
    transcript = page.locator("pre.transcript")
    await expect(transcript).to_contain_text("C: EHLO")
    await expect(transcript).to_contain_text("C: STARTTLS")
    await expect(transcript).to_contain_text("S: 220")
    await shots(page, "messages-transcript-page")

    live = await browser.new_page()
    await sign_in(live, room.served)
    detail = f"{room.served.base_url}/messages/{email_id}"
    await live.goto(detail)
    await live.wait_for_function("typeof window.htmx === 'object'")
    await live.get_by_role("link", name="Session transcript").click()
    inline = live.locator(".timeline pre.transcript")
    await expect(inline).to_contain_text("C: STARTTLS")
    assert live.url == detail
    await shots(live, "messages-transcript-inline")


async def test_cancel_keeps_the_message_and_the_engine_sends_nothing_more(
    room: Mailroom, browser: Browser, test_dns: TestDns
) -> None:
    second_inbox = new_domain(test_dns, "inboxtwo")
    test_dns.add_zone(second_inbox, f"@ MX 10 mx\nmx A {MX_ADDRESS}")
    email_id = await room.send("Parcel", to=(f"bob@{room.inbox}", f"dave@{second_inbox}"))
    # One recipient is being delivered by some worker right now (leased): cancel leaves it.
    [job] = await room.node.store.claim_due("other-worker", room.node.clock.now(), 300, 1)
    [in_flight] = job.recipients

    page = await browser.new_page(java_script_enabled=False)
    await sign_in(page, room.served)
    await page.goto(f"{room.served.base_url}/messages/{email_id}")
    await page.get_by_role("button", name="Cancel sending").click()
    await expect(page.get_by_role("status")).to_have_text(
        "1 recipient cancelled, 1 in flight could not be (being delivered right now)."
    )
    in_flight_card = page.get_by_role("region", name=re.compile(re.escape(in_flight.address)))
    await expect(in_flight_card).to_contain_text("Being delivered right now")
    await shots(page, "messages-cancelled")

    await room.node.store.release_lease("other-worker", [in_flight.id])
    await room.node.engine.run_until_idle()
    [received] = await room.receiver.wait_for(1)
    assert received.rcpt_tos == (in_flight.address,)
    view = await room.node.store.get_message(email_id)
    assert view is not None
    statuses = {r.address: r.status for r in view.recipients}
    cancelled = next(address for address in statuses if address != in_flight.address)
    assert statuses == {
        in_flight.address: RecipientStatus.DELIVERED,
        cancelled: RecipientStatus.CANCELLED,
    }
    assert len(room.receiver.messages) == 1

    await page.reload()
    await expect(page.get_by_role("region", name=re.compile(re.escape(cancelled)))).to_contain_text(
        "cancelled"
    )
    await expect(page.get_by_role("button", name="Cancel sending")).to_be_disabled()
    await page.get_by_role("link", name="Messages").click()
    await page.get_by_label("Status").select_option("cancelled")
    await page.get_by_role("button", name="Search").click()
    assert await _links(page) == ["Parcel"]


async def test_another_accounts_message_is_not_found_anywhere(room: Mailroom) -> None:
    email_id = await room.send("Private")
    await room.node.engine.run_until_idle()
    await room.receiver.wait_for(1)
    view = await room.node.store.get_message(email_id)
    assert view is not None
    attempt_id = view.recipients[0].attempt_log[0].id
    waiting_id = await room.send("Waiting")
    _, other_token = await room.node.services.keys.create("globex")
    async with signed_client(room.served) as (owner, _):
        mine = await owner.get(f"/messages/{email_id}/attempts/{attempt_id}/transcript")
        assert mine.status_code == 200
        assert "C: EHLO" in mine.text
    async with signed_client(room.served, other_token) as (other, csrf):
        paths = [
            f"/messages/{email_id}",
            f"/messages/{email_id}/html",
            f"/messages/{email_id}/attempts/{attempt_id}/transcript",
        ]
        for path in paths:
            assert (await other.get(path)).status_code == 404, path
        cancel = await other.post(f"/messages/{waiting_id}/cancel", data={"csrf": csrf})
        assert cancel.status_code == 404
        listed = await other.get("/messages", params={"subject": "Private"})
        assert "No messages match." in listed.text
    unchanged = await room.node.store.get_message(waiting_id)
    assert unchanged is not None
    assert unchanged.recipients[0].status is RecipientStatus.QUEUED


async def test_search_by_tag_stream_and_time_range_and_a_cancel_needs_the_csrf_token(
    room: Mailroom,
) -> None:
    clock = room.node.clock
    assert isinstance(clock, FakeClock)
    early = await room.send("Early", tags=("welcome",), stream=Stream.BROADCAST)
    clock.advance(3600.0)
    late = await room.send("Late", tags=("receipt",))
    cut = (clock.now() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")

    def subjects(page: str) -> list[str]:
        return re.findall(r'<a href="[^"]*/messages/[0-9A-Z]+">([^<]+)</a>', page)

    async with signed_client(room.served) as (client, csrf):
        assert subjects((await client.get("/messages")).text) == ["Late", "Early"]
        assert subjects((await client.get("/messages", params={"tag": "welcome"})).text) == [
            "Early"
        ]
        assert subjects((await client.get("/messages", params={"after": cut})).text) == ["Late"]
        assert subjects((await client.get("/messages", params={"before": cut})).text) == ["Early"]
        by_stream = {"stream": "broadcast"}
        assert subjects((await client.get("/messages", params=by_stream)).text) == ["Early"]
        listed = (await client.get("/messages", params={"stream": "transactional"})).text
        assert subjects(listed) == ["Late"]
        assert "<td>transactional</td>" in listed
        shown = (await client.get(f"/messages/{early}")).text
        assert re.search(r"<dt>Stream</dt><dd>broadcast</dd>", shown)
        window = {"after": cut, "tag": "welcome"}
        assert subjects((await client.get("/messages", params=window)).text) == []

        forged = await client.post(f"/messages/{early}/cancel", data={"csrf": "forged"})
        assert forged.status_code == 403
        missing = await client.post(f"/messages/{late}/cancel")
        assert missing.status_code == 403
        done = await client.post(f"/messages/{late}/cancel", data={"csrf": csrf})
        assert done.status_code == 303
    statuses = {}
    for email_id in (early, late):
        view = await room.node.store.get_message(email_id)
        assert view is not None
        statuses[view.subject] = view.recipients[0].status
    assert statuses == {"Early": RecipientStatus.QUEUED, "Late": RecipientStatus.CANCELLED}
