"""API keys on a real database: shown once, stored as digests, refused at once when revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from postillon.clock import FakeClock
from postillon.services.errors import NotFoundError
from postillon.services.keys import KEY_PREFIX, key_digest
from postillon.storage import Account
from postillon.storage.schema import api_keys
from tests.integration.services.conftest import World


async def test_a_new_key_authenticates_its_account(world: World) -> None:
    info, token = await world.services.keys.create("acme")

    account = await world.services.keys.authenticate(token)

    assert account is not None
    assert account.name == "acme"
    assert info.account_id == account.id
    assert token.startswith(KEY_PREFIX)
    assert len(token) >= len(KEY_PREFIX) + 43  # 32 random octets, base64url
    assert info.prefix == token[:12]


async def test_only_the_digest_is_stored(world: World) -> None:
    _, token = await world.services.keys.create("acme")

    async with world.store.writer.connect() as connection:
        rows = list(await connection.execute(sa.select(api_keys)))

    [row] = rows
    assert row.digest == key_digest(token)
    assert token not in repr(tuple(row))


async def test_two_keys_differ(world: World) -> None:
    _, first = await world.services.keys.create("acme")
    _, second = await world.services.keys.create("acme")

    assert first != second


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("pst_", id="prefix-only"),
        pytest.param("pst_" + "A" * 43, id="unknown"),
        pytest.param("sk_live_abc", id="foreign-prefix"),
        pytest.param("pst_" + "A" * 500, id="oversized"),
    ],
)
async def test_unknown_keys_are_refused(world: World, token: str) -> None:
    await world.services.keys.create("acme")

    assert await world.services.keys.authenticate(token) is None


async def test_a_revoked_key_is_refused_at_once(world: World) -> None:
    info, token = await world.services.keys.create("acme")
    assert await world.services.keys.authenticate(token) is not None

    assert await world.services.keys.revoke(info.account_id, info.id) is True

    assert await world.services.keys.authenticate(token) is None
    assert await world.services.keys.revoke(info.account_id, info.id) is False
    [listed] = await world.services.keys.list(info.account_id)
    assert listed.revoked_at is not None


async def test_revoking_another_accounts_key_is_not_found(world: World, globex: Account) -> None:
    info, token = await world.services.keys.create("acme")

    with pytest.raises(NotFoundError):
        await world.services.keys.revoke(globex.id, info.id)

    assert await world.services.keys.authenticate(token) is not None


async def test_listing_shows_each_accounts_own_keys_newest_first(
    world: World, clock: FakeClock
) -> None:
    first, _ = await world.services.keys.create("acme")
    clock.advance(1)
    second, _ = await world.services.keys.create("acme")
    other, _ = await world.services.keys.create("globex")

    listed = await world.services.keys.list(first.account_id)

    assert [k.id for k in listed] == [second.id, first.id]
    assert other.id not in {k.id for k in listed}


async def test_last_use_is_recorded_at_most_once_a_minute(world: World, clock: FakeClock) -> None:
    info, token = await world.services.keys.create("acme")
    used_at = clock.now()
    await world.services.keys.authenticate(token)
    clock.advance(30)
    await world.services.keys.authenticate(token)

    [after_30s] = await world.services.keys.list(info.account_id)
    clock.advance(timedelta(seconds=31))
    await world.services.keys.authenticate(token)
    [after_61s] = await world.services.keys.list(info.account_id)

    assert after_30s.last_used_at == used_at
    assert after_61s.last_used_at == clock.now()
