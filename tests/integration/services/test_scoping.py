"""Dashboard actions go through scoped services: "Retry now" touches only the account's own
message, and a session's key digest is checked as strictly as a key (shape, digest compare,
revocation). On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from postillon.clock import FakeClock
from postillon.services.errors import NotFoundError
from postillon.services.keys import key_digest
from postillon.storage.records import Account
from tests.integration.services.conftest import START, World
from tests.integration.storage.builders import message


async def test_retry_now_of_another_accounts_message_is_not_found_and_changes_nothing(
    world: World, acme: Account, globex: Account
) -> None:
    queued = await world.store.enqueue(message(globex.id, "x@dest.test"))
    before = await world.store.get_message(queued.message_id)
    with pytest.raises(NotFoundError):
        await world.services.sending.retry_now(acme, queued.message_id)
    assert await world.store.retry_now(queued.message_id, account_id=acme.id) == 0
    assert await world.store.get_message(queued.message_id) == before
    assert await world.services.sending.retry_now(globex, queued.message_id) == 1


@pytest.mark.parametrize(
    "digest",
    ["", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "%" * 64, "0" * 32 + "\x00" * 32],
)
async def test_a_malformed_session_digest_names_no_key(world: World, digest: str) -> None:
    assert await world.services.keys.session_key(digest, START) is None


async def test_a_session_digest_finds_its_live_key_only(world: World) -> None:
    info, token = await world.services.keys.create("acme")
    found = await world.services.keys.session_key(key_digest(token), START)
    assert found is not None
    assert (found[0].id, found[1].name) == (info.id, "acme")
    await world.services.keys.revoke(info.account_id, info.id)
    assert await world.services.keys.session_key(key_digest(token), START) is None


async def test_ending_a_keys_sessions_refuses_those_issued_before_only(
    world: World, clock: FakeClock
) -> None:
    info, token = await world.services.keys.create("acme")
    stolen_issued_at = clock.now()
    clock.advance(60)
    await world.services.keys.end_sessions(info.id)
    assert await world.services.keys.session_key(key_digest(token), stolen_issued_at) is None
    assert await world.services.keys.session_key(key_digest(token), clock.now()) is not None
