"""Dashboard users are unique per account: another tenant may add the same email without
learning it exists elsewhere, and cannot sign in as, or lock out, the first account's user,
who then names their account once. The node listens on 127.0.17.5."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from postillon.config.settings import ApiSettings
from postillon.dashboard.auth_routes import ACCOUNT_NEEDED, WRONG_CREDENTIALS
from tests.e2e.dashboard.conftest import Served, serve_node
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)

EMAIL = "ann@example.com"
ANNS_PASSWORD = "correct horse battery"
SQUATTERS_PASSWORD = "squatter password here"


@pytest.fixture
async def node(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[Served]:
    async with serve_node(tmp_path, test_dns, api=ApiSettings(listen="127.0.17.5:0")) as opened:
        yield opened


async def sign_in(served: Served, **form: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=15.0) as client:
        return await client.post("/sign-in", data=form)


async def test_another_tenant_cannot_probe_squat_or_take_over_an_email(node: Served) -> None:
    users = node.node.services.users
    await users.add(node.account, EMAIL, ANNS_PASSWORD)
    globex = await node.node.store.ensure_account("globex")
    # Adding the same email to another account reveals nothing: it simply works.
    await users.add(globex, EMAIL, SQUATTERS_PASSWORD)

    ambiguous = await sign_in(node, email=EMAIL, password=ANNS_PASSWORD)
    assert ambiguous.status_code == 401
    assert ACCOUNT_NEEDED in ambiguous.text
    assert 'name="account"' in ambiguous.text

    mine = await sign_in(node, email=EMAIL, password=ANNS_PASSWORD, account="acme")
    assert mine.status_code == 303
    crossed = await sign_in(node, email=EMAIL, password=ANNS_PASSWORD, account="globex")
    assert crossed.status_code == 401
    assert WRONG_CREDENTIALS in crossed.text
    assert [u.email for u in await users.list(node.account.id)] == [EMAIL]


async def test_an_email_of_one_account_signs_in_without_naming_it(node: Served) -> None:
    await node.node.services.users.add(node.account, EMAIL, ANNS_PASSWORD)
    assert (await sign_in(node, email=EMAIL, password=ANNS_PASSWORD)).status_code == 303
