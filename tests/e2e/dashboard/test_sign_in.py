"""Signing in to the dashboard as a person: email and argon2id password in a real browser
(JavaScript off), one answer for every wrong attempt, throttling, the way back to the page
that asked, the Users page, and sessions that end (12 hours, a new password, removal)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from postillon.clock import FakeClock
from postillon.dashboard.auth_routes import WRONG_CREDENTIALS
from postillon.services.users import DashboardUserInfo
from tests.e2e.dashboard.browsing import shots, sign_in
from tests.e2e.dashboard.conftest import Served

pytestmark = pytest.mark.timeout(90)
PASSWORD = "correct horse battery"


async def _add_ann(served: Served) -> DashboardUserInfo:
    return await served.node.services.users.add(served.account, "ann@example.com", PASSWORD)


async def _sign_in_as(page: Page, email: str, password: str) -> None:
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def _client_as(served: Served, password: str = PASSWORD) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=served.base_url, timeout=15.0)
    answer = await client.post("/sign-in", data={"email": "ann@example.com", "password": password})
    assert answer.status_code == 303, answer.text
    return client


def _clock(served: Served) -> FakeClock:
    return cast(FakeClock, served.node.clock)


async def test_a_person_signs_in_with_email_and_password_and_comes_back_to_the_page(
    served: Served, browser: Browser
) -> None:
    await _add_ann(served)
    page = await browser.new_page(java_script_enabled=False)

    await page.goto(f"{served.base_url}/domains")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fdomains$"))
    await shots(page, "auth-01-sign-in")
    await _sign_in_as(page, "ann@example.com", PASSWORD + "?")
    wrong_password = await page.get_by_role("alert").inner_text()
    await _sign_in_as(page, "nobody@example.com", PASSWORD)
    unknown_email = await page.get_by_role("alert").inner_text()
    await _sign_in_as(page, "ANN@example.com", PASSWORD)

    assert wrong_password == unknown_email == WRONG_CREDENTIALS
    await expect(page).to_have_url(re.compile(r"/dashboard/domains$"))
    await expect(page.get_by_role("banner")).to_contain_text("ann@example.com")
    await page.get_by_role("link", name="Users").click()
    await expect(page.get_by_role("row", name=re.compile("ann@example.com"))).to_contain_text(
        "(you)"
    )
    await shots(page, "auth-02-users")


async def test_the_users_page_adds_resets_and_removes_people(
    served: Served, browser: Browser
) -> None:
    users = served.node.services.users
    page = await browser.new_page(java_script_enabled=False)
    await sign_in(page, served)
    await page.get_by_role("link", name="Users").click()
    await expect(page.get_by_text("No users yet")).to_be_visible()

    # The browser would refuse a short password itself; the server must too.
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as client:
        await client.post("/sign-in", data={"api_key": served.token})
        form = await client.get("/users")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        short = await client.post(
            "/users", data={"csrf": csrf.group(1), "email": "bob@example.com", "password": "short"}
        )
    assert short.status_code == 422
    assert "at least 12 characters" in short.text

    await page.get_by_label("Email").fill("bob@example.com")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Add the user").click()
    await expect(page.get_by_role("row", name=re.compile("bob@example.com"))).to_be_visible()
    assert await users.authenticate("bob@example.com", PASSWORD) is not None

    await page.get_by_text("Set a new password").click()
    await page.get_by_label("New password for bob@example.com").fill("another long password")
    await page.get_by_role("button", name="Save the password").click()
    assert await users.authenticate("bob@example.com", PASSWORD) is None
    assert await users.authenticate("bob@example.com", "another long password") is not None

    await page.get_by_role("button", name="Remove bob@example.com").click()
    await expect(page.get_by_text("No users yet")).to_be_visible()
    assert await users.list(served.account.id) == []


async def test_a_new_password_or_removal_ends_the_users_sessions(served: Served) -> None:
    users = served.node.services.users
    await _add_ann(served)
    before = await _client_as(served)
    _clock(served).advance(1)

    await users.set_password(served.account.id, "ann@example.com", "another long password")
    refused = await before.get("/overview")
    after = await _client_as(served, "another long password")
    still = await after.get("/overview")
    await users.remove(served.account.id, "ann@example.com")
    removed = await after.get("/overview")
    await before.aclose()
    await after.aclose()

    assert refused.status_code == 303
    assert "/sign-in" in refused.headers["location"]
    assert still.status_code == 200
    assert removed.status_code == 303


async def test_a_session_ends_after_twelve_hours(served: Served) -> None:
    await _add_ann(served)
    client = await _client_as(served)

    _clock(served).advance(timedelta(hours=12) - timedelta(seconds=1))
    late = await client.get("/overview")
    _clock(served).advance(1)
    expired = await client.get("/overview")
    await client.aclose()

    assert late.status_code == 200
    assert expired.status_code == 303


async def test_failed_sign_ins_are_throttled_even_for_the_right_password(served: Served) -> None:
    await _add_ann(served)
    limit = served.node.settings.dashboard.sign_in_attempts
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as client:
        failed = [
            await client.post("/sign-in", data={"email": "ann@example.com", "password": "wrong!"})
            for _ in range(limit)
        ]
        throttled = await client.post(
            "/sign-in", data={"email": "ann@example.com", "password": PASSWORD}
        )
        by_key = await client.post("/sign-in", data={"api_key": served.token})
        _clock(served).advance(served.node.settings.dashboard.sign_in_window_s)
        later = await client.post(
            "/sign-in", data={"email": "ann@example.com", "password": PASSWORD}
        )

    assert {answer.status_code for answer in failed} == {401}
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 900
    assert "Too many failed sign-ins" in throttled.text
    assert by_key.status_code == 429  # the client's address is throttled too
    assert later.status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "overview"]
)
async def test_sign_in_never_sends_the_browser_off_the_dashboard(
    served: Served, target: str
) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as client:
        answer = await client.post("/sign-in", data={"api_key": served.token, "next": target})

    assert answer.status_code == 303
    assert answer.headers["location"] == f"{served.base_url}/overview"


async def test_the_start_page_is_the_overview(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as client:
        await client.post("/sign-in", data={"api_key": served.token})
        answer = await client.get("/", follow_redirects=True)

    assert answer.status_code == 200
    assert str(answer.url) == f"{served.base_url}/overview"


async def test_a_sign_in_posted_from_another_site_is_refused(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as client:
        foreign = await client.post(
            "/sign-in", data={"api_key": served.token}, headers={"Origin": "https://evil.example"}
        )
        here = await client.post(
            "/sign-in",
            data={"api_key": served.token},
            headers={"Origin": served.base_url.removesuffix("/dashboard")},
        )

    assert foreign.status_code == 403
    assert "postillon_session" not in foreign.cookies
    assert here.status_code == 303
