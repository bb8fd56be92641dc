"""What the dashboard's browser and HTTP tests share: signing in (a page or an HTTP client),
and full-page screenshots on a laptop and a phone for review."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from playwright.async_api import Page, ViewportSize

from tests.e2e.dashboard.conftest import ARTIFACTS, Served

LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SIGNED_IN = re.compile(r"/dashboard/(?!sign-in)")


async def sign_in(page: Page, served: Served, token: str | None = None) -> None:
    """Sign ``page`` in with the API key ``token`` (default: the served account's) and wait
    for the page it lands on."""
    await page.goto(f"{served.base_url}/sign-in")
    await page.get_by_label("API key", exact=True).fill(token or served.token)
    await page.get_by_role("button", name="Sign in with the key").click()
    await page.wait_for_url(_SIGNED_IN)


async def shots(page: Page, name: str) -> None:
    """Full-page screenshots ``<name>-laptop.png`` and ``<name>-phone.png`` of ``page``
    (the viewport is left on the laptop)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    await page.set_viewport_size(LAPTOP)
    await page.screenshot(path=str(ARTIFACTS / f"{name}-laptop.png"), full_page=True)


@asynccontextmanager
async def signed_client(
    served: Served, token: str | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An HTTP client signed in with the API key ``token`` (default: the served account's),
    and its session's CSRF token."""
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as client:
        answer = await client.post("/sign-in", data={"api_key": token or served.token})
        assert answer.status_code == 303, answer.text
        match = _CSRF.search((await client.get("/keys")).text)
        assert match is not None
        yield client, match.group(1)
