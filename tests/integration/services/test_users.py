"""Dashboard users on both backends: argon2id hashes, one answer for every wrong sign-in,
re-hashing under new parameters, removal and new passwords (which end older sessions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from postillon.clock import FakeClock
from postillon.services.errors import NotFoundError
from postillon.services.users import DashboardUserService, InvalidUserError, UserExistsError
from postillon.storage import Account
from postillon.storage.dashboard_users_sql import SqlDashboardUsers
from postillon.storage.transactions import Transactions
from tests.integration.services.conftest import World

PASSWORD = "correct horse battery"


async def test_a_user_signs_in_with_the_right_password_only(
    world: World, acme: Account, clock: FakeClock
) -> None:
    users = world.services.users
    added = await users.add(acme, " Ann@Example.COM ", PASSWORD)
    clock.advance(60)

    found = await users.authenticate("ann@example.com", PASSWORD)
    wrong = await users.authenticate("ann@example.com", PASSWORD + "!")
    unknown = await users.authenticate("bob@example.com", PASSWORD)

    assert added.email == "ann@example.com"
    assert found is not None
    info, account = found
    assert (info.id, account.id) == (added.id, acme.id)
    assert wrong is None
    assert unknown is None
    [listed] = await users.list(acme.id)
    assert listed.last_sign_in_at == clock.now()


async def test_the_password_is_stored_as_an_argon2id_hash(world: World, acme: Account) -> None:
    added = await world.services.users.add(acme, "ann@example.com", PASSWORD)
    record = await SqlDashboardUsers(Transactions(world.services.engines, FakeClock())).find_by_id(
        added.id
    )

    assert record is not None
    assert record[0].password_hash.startswith("$argon2id$")
    assert PASSWORD not in record[0].password_hash


@pytest.mark.parametrize(
    ("email", "password", "problem"),
    [
        ("not an email", PASSWORD, "not a valid email address"),
        ("ann@example.com", "short", "at least 12 characters"),
        ("ann@example.com", "x" * 1025, "at most 1024 characters"),
    ],
    ids=["email", "short", "absurd"],
)
async def test_a_bad_email_or_password_is_refused_with_the_reason(
    world: World, acme: Account, email: str, password: str, problem: str
) -> None:
    with pytest.raises(InvalidUserError, match=problem):
        await world.services.users.add(acme, email, password)
    assert await world.services.users.list(acme.id) == []


async def test_an_email_is_unique_per_account_not_across_accounts(
    world: World, acme: Account, globex: Account
) -> None:
    await world.services.users.add(acme, "ann@example.com", PASSWORD)
    with pytest.raises(UserExistsError):
        await world.services.users.add(acme, "ANN@example.com", PASSWORD)
    # Another tenant adding the same address learns nothing and takes nothing from acme.
    await world.services.users.add(globex, "ANN@example.com", "another long password")
    assert [u.email for u in await world.services.users.list(globex.id)] == ["ann@example.com"]
    assert [u.email for u in await world.services.users.list(acme.id)] == ["ann@example.com"]
    signed = await world.services.users.authenticate("ann@example.com", PASSWORD, "acme")
    assert signed is not None
    assert signed[1].id == acme.id


async def test_another_account_cannot_remove_or_reset_a_user(
    world: World, acme: Account, globex: Account
) -> None:
    users = world.services.users
    await users.add(acme, "ann@example.com", PASSWORD)
    with pytest.raises(NotFoundError):
        await users.remove(globex.id, "ann@example.com")
    with pytest.raises(NotFoundError):
        await users.set_password(globex.id, "ann@example.com", "another long password")
    assert await users.authenticate("ann@example.com", PASSWORD) is not None


async def test_a_new_password_replaces_the_old_and_moves_the_change_time(
    world: World, acme: Account, clock: FakeClock
) -> None:
    users = world.services.users
    added = await users.add(acme, "ann@example.com", PASSWORD)
    clock.advance(timedelta(hours=1))

    await users.set_password(acme.id, "Ann@example.com", "another long password")

    assert await users.authenticate("ann@example.com", PASSWORD) is None
    assert await users.authenticate("ann@example.com", "another long password") is not None
    found = await users.session_user(added.id)
    assert found is not None
    assert found[0].password_changed_at == clock.now()


async def test_a_removed_user_has_no_session_and_cannot_sign_in(
    world: World, acme: Account
) -> None:
    users = world.services.users
    added = await users.add(acme, "ann@example.com", PASSWORD)

    await users.remove(acme.id, "ANN@example.com")

    assert await users.session_user(added.id) is None
    assert await users.authenticate("ann@example.com", PASSWORD) is None
    with pytest.raises(NotFoundError):
        await users.remove(acme.id, "ann@example.com")


async def test_a_hash_under_old_parameters_is_replaced_at_the_next_sign_in(
    world: World, acme: Account, clock: FakeClock
) -> None:
    table = SqlDashboardUsers(Transactions(world.services.engines, clock))
    weak = DashboardUserService(
        table, clock, hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    )
    added = await weak.add(acme, "ann@example.com", PASSWORD)
    before = await table.find_by_id(added.id)
    clock.advance(60)

    assert await world.services.users.authenticate("ann@example.com", PASSWORD) is not None

    after = await table.find_by_id(added.id)
    assert before is not None
    assert after is not None
    assert "m=8192" in before[0].password_hash
    assert "m=65536" in after[0].password_hash
    # Re-hashing the same password does not end the user's sessions.
    assert after[0].password_changed_at == before[0].password_changed_at
