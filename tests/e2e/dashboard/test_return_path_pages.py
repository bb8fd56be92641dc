"""Reports received by mail in a real browser (JavaScript off) over a real node: two messages
delivered to a real MX, then a DSN for one and an ARF complaint for the other sent back by
smtplib to the node's inbound listener. The message page lists the report and the late
bounce, the suppressions page shows the reasons ``bounce`` and ``complaint``, and the overview
shows the complaint rate beside the bounce rate.

Addresses (issue 15's range): 127.0.15.11 the dashboard, 127.0.15.12 the node's source
address, 127.0.15.13 the MX, 127.0.15.14 the inbound listener, 127.0.15.15 the reporter.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from postillon.config.settings import ApiSettings, InboundSettings
from postillon.message.model import OutgoingEmail
from postillon.services.sending import SendRequest
from tests.e2e.dashboard.browsing import LAPTOP, shots, sign_in
from tests.e2e.dashboard.conftest import serve_node, verified_domain
from tests.integration.services.conftest import new_domain
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory
from tests.unit.reports import shapes

pytestmark = pytest.mark.timeout(90)

DASHBOARD = "127.0.15.11"
SOURCE = "127.0.15.12"
MX = "127.0.15.13"
INBOUND = "127.0.15.14"
REPORTER = "127.0.15.15"
CLIENT_TIMEOUT_S = 10


def report(case: shapes.Case, recipient: str, return_path: str) -> bytes:
    raw = case.raw.replace("bob@example.net", recipient).replace(shapes.RETURN_PATH, return_path)
    return raw.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def send_back(rcpt: str, data: bytes) -> None:
    with smtplib.SMTP(
        INBOUND, 25, timeout=CLIENT_TIMEOUT_S, source_address=(REPORTER, 0)
    ) as client:
        client.sendmail("", [rcpt], data)


async def test_reports_show_on_the_message_suppressions_and_overview(
    tmp_path: Path, test_dns: TestDns, browser: Browser, smtp_receiver: ReceiverFactory
) -> None:
    receiver = await smtp_receiver(MX)
    inbox = new_domain(test_dns, "rpdash")
    test_dns.add_zone(inbox, f"@ MX 10 mx\nmx A {MX}")
    async with serve_node(
        tmp_path,
        test_dns,
        source_address=SOURCE,
        api=ApiSettings(listen=f"{DASHBOARD}:0"),
        inbound=InboundSettings(listen=(f"{INBOUND}:25",)),
    ) as served:
        node, account = served.node, served.account
        assert node.inbound is not None
        await node.inbound.start()
        try:
            shop = await verified_domain(node, account, test_dns, "rpdashshop")
            ids = {}
            for name, subject in (("bob", "Order 1"), ("carol", "Newsletter")):
                email = OutgoingEmail(
                    from_=f"shop@{shop}", to=(f"{name}@{inbox}",), subject=subject, text="x"
                )
                ids[name] = (await node.services.sending.send(account, SendRequest(email))).id
            await node.engine.run_until_idle()
            received = {m.rcpt_tos[0].split("@")[0]: m for m in await receiver.wait_for(2)}
            bounce = report(shapes.POSTFIX_DSN, f"bob@{inbox}", received["bob"].mail_from)
            complaint = report(shapes.ARF_ABUSE, f"carol@{inbox}", received["carol"].mail_from)
            await asyncio.to_thread(send_back, received["bob"].mail_from, bounce)
            await asyncio.to_thread(send_back, received["carol"].mail_from, complaint)

            page = await browser.new_page(java_script_enabled=False, viewport=LAPTOP)
            await sign_in(page, served)
            await expect(page.locator("#stat-complaint-rate .figure")).to_have_text("50%")
            await expect(page.locator("#stat-bounce-rate")).to_contain_text("1 more bounced later")
            await shots(page, "return-path-01-overview")

            await page.goto(f"{served.base_url}/messages/{ids['bob']}")
            reports = page.get_by_role("region", name="Reports received by mail")
            await expect(reports).to_contain_text("Bounce")
            await expect(reports).to_contain_text("5.1.1")
            await expect(reports).to_contain_text("bounced after delivery")
            await expect(reports).to_contain_text(REPORTER)
            await expect(
                page.get_by_role("heading", name=re.compile(f"bob@{inbox}"))
            ).to_contain_text("bounced")
            recipient = page.get_by_role("region", name=re.compile(f"bob@{inbox}"))
            await expect(recipient).to_contain_text("Last reply: 550 5.1.1 <bob@")
            await shots(page, "return-path-02-message")

            await page.goto(f"{served.base_url}/suppressions")
            table = page.get_by_role("table", name=re.compile(r"^Suppressed addresses"))
            await expect(table.get_by_role("row", name=re.compile(f"bob@{inbox}"))).to_contain_text(
                "bounce"
            )
            await expect(
                table.get_by_role("row", name=re.compile(f"carol@{inbox}"))
            ).to_contain_text("complaint")
            await expect(
                table.get_by_role("row", name=re.compile(f"carol@{inbox}"))
            ).to_contain_text("feedback-type abuse")
            await shots(page, "return-path-03-suppressions")
        finally:
            await node.inbound.close()
