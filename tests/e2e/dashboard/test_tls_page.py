"""The TLS page over a real node: per recipient domain, the policies its attempts ran under, the
share verified and failures by RFC 8460 result type, for the signed-in account only; the range
links and an unknown range (400 with a notice). Attempts are recorded through the store as the
engine records them (the DANE tests cover how an attempt gets its policy)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from postillon.queue.status import RecipientStatus
from postillon.storage import RecipientOutcome
from tests.e2e.dashboard.browsing import shots, sign_in
from tests.e2e.dashboard.conftest import Served
from tests.integration.storage.builders import attempt, message

pytestmark = pytest.mark.timeout(60)
LEASE_S = 300.0


async def _record(served: Served, account_id: str, address: str, **tls: Any) -> None:
    """One message to ``address`` and one attempt with the TLS fields ``tls``."""
    store = served.node.store
    await store.enqueue(message(account_id, address))
    (job,) = await store.claim_due("t", served.clock.now(), LEASE_S, 10)
    delivered = not tls.get("tls_result") or tls.get("tls_policy") == "mta-sts-testing"
    record = replace(attempt(served.clock.now(), 250 if delivered else 451, None, "x"), **tls)
    status = RecipientStatus.DELIVERED if delivered else RecipientStatus.DEFERRED
    retry = None if delivered else served.clock.now().replace(year=2099)
    outcome = RecipientOutcome(job.recipients[0].id, status, record, next_attempt_at=retry)
    await store.record_outcomes("t", [outcome])


async def test_the_tls_page_sums_each_recipient_domains_transport_security(
    served: Served, browser: Browser
) -> None:
    acme = served.account.id
    dane = {"tls_policy": "dane", "dane_tlsa": "3 1 1"}
    await _record(served, acme, "a@dane.example", **dane)
    await _record(served, acme, "b@dane.example", **dane)
    await _record(
        served,
        acme,
        "c@dane.example",
        tls_policy="dane",
        tls_used=False,
        tls_verified=None,
        tls_result="tlsa-invalid",
    )
    await _record(
        served,
        acme,
        "d@sts.example",
        tls_policy="mta-sts-testing",
        tls_verified=False,
        tls_result="certificate-expired",
    )
    other = await served.node.store.ensure_account("other")
    await _record(served, other.id, "e@secret.example", tls_policy="opportunistic")

    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, served)
    await page.get_by_role("link", name="TLS", exact=True).click()
    await expect(page.get_by_role("heading", name="TLS", level=1)).to_be_visible()
    assert await _rows(page) == {
        "dane.example": {
            "policies": "dane (3)",
            "attempts": "3",
            "over-tls": "2",
            "verified": "66.7%",
            "failures": "tlsa-invalid (1)",
        },
        "sts.example": {
            "policies": "mta-sts-testing (1)",
            "attempts": "1",
            "over-tls": "1",
            "verified": "0%",
            "failures": "certificate-expired (1)",
        },
    }
    await expect(page.locator("main")).not_to_contain_text("secret.example")  # other account
    await shots(page, "tls")
    await page.get_by_role("link", name="7 days").click()
    assert set(await _rows(page)) == {"dane.example", "sts.example"}
    answer = await page.goto(f"{served.base_url}/tls?range=1y")
    assert answer is not None
    assert answer.status == 400
    await expect(page.get_by_role("alert")).to_be_visible()
    await context.close()


async def _rows(page: Page) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for row in await page.locator("table.tls-domains tbody tr").all():
        domain = (await row.locator("th").inner_text()).strip()
        cells = {}
        for key in ("policies", "attempts", "over-tls", "verified", "failures"):
            cells[key] = (await row.locator(f"td.{key}").inner_text()).strip()
        rows[domain] = cells
    return rows
