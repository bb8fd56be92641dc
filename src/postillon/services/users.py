"""Dashboard users: people of an account who sign in with an email and a password.

Passwords are hashed with argon2id (argon2-cffi's :class:`PasswordHasher`, RFC 9106 parameters);
a stored hash made under older parameters is replaced by a new one at the next good sign-in.
An unknown email is verified against a dummy hash, so the time a sign-in takes does not tell
which emails exist. Hashing runs in worker threads, a few at a time (each one takes 64 MiB).
Emails are stored lower-cased. It must not know about HTTP or sessions (the dashboard does).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from postillon.clock import Clock
from postillon.errors import PermanentError
from postillon.message.address import make_address
from postillon.message.errors import AddressError
from postillon.services.errors import NotFoundError
from postillon.storage.dashboard_users_sql import DashboardUserRecord, SqlDashboardUsers
from postillon.storage.records import Account

# NIST SP 800-63B §5.1.1.2 asks for at least 8; a dashboard that can send mail asks for more.
MIN_PASSWORD_CHARS = 12
# argon2 takes any length; anything longer than this is not a password someone types.
MAX_PASSWORD_CHARS = 1024
# Hashes at once on this node: each holds the hasher's memory (64 MiB by default).
MAX_CONCURRENT_HASHES = 4


class InvalidUserError(PermanentError):
    """An email or password that cannot be used; the message says why, for the person."""


class AccountNeededError(PermanentError):
    """The email is a user of several accounts: sign-in must name the account."""


class UserExistsError(PermanentError):
    """The email already belongs to a dashboard user (of this account or another)."""


@dataclass(frozen=True)
class DashboardUserInfo:
    """A user as listings show them (never the hash)."""

    id: str
    account_id: str
    email: str
    created_at: datetime
    password_changed_at: datetime
    last_sign_in_at: datetime | None
    sessions_ended_at: datetime | None = None


def normal_email(text: str) -> str:
    """The stored form of an email: a valid bare address, lower-cased.

    Raises :class:`InvalidUserError` when ``text`` is not one.
    """
    try:
        address = make_address(text.strip(), None)
    except AddressError as error:
        raise InvalidUserError(f"not a valid email address: it {error}") from None
    return address.addr_spec.lower()


def check_password(password: str) -> None:
    """Raise :class:`InvalidUserError` unless ``password`` is long enough (and not absurd)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidUserError(f"the password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidUserError(f"the password must be at most {MAX_PASSWORD_CHARS} characters")


def _info(record: DashboardUserRecord) -> DashboardUserInfo:
    return DashboardUserInfo(
        id=record.id,
        account_id=record.account_id,
        email=record.email,
        created_at=record.created_at,
        password_changed_at=record.password_changed_at,
        last_sign_in_at=record.last_sign_in_at,
        sessions_ended_at=record.sessions_ended_at,
    )


class DashboardUserService:
    """Add, authenticate, list and remove dashboard users, and change their passwords."""

    def __init__(
        self,
        users: SqlDashboardUsers,
        clock: Clock,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._users = users
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._hashing = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
        self._dummy_hash: str | None = None

    async def add(self, account: Account, email: str, password: str) -> DashboardUserInfo:
        """A new user of ``account``. Raises :class:`InvalidUserError` for a bad email or a
        short password, :class:`UserExistsError` when the email is taken."""
        address = normal_email(email)
        check_password(password)
        record = await self._users.insert(account.id, address, await self._hash(password))
        if record is None:
            raise UserExistsError(f"{address} is already a dashboard user of this account")
        return _info(record)

    async def authenticate(
        self, email: str, password: str, account_name: str = ""
    ) -> tuple[DashboardUserInfo, Account] | None:
        """The user and account for a right email and password; None for anything wrong.

        Emails are unique per account: when several accounts have this email and
        ``account_name`` does not say which, raises AccountNeededError (no password is
        checked, so a tenant that adds someone's email elsewhere can only make them type
        their account's name, never sign in as them or lock them out).
        """
        if not password or len(password) > MAX_PASSWORD_CHARS:
            return None
        dummy = await self._dummy()
        try:
            matches = await self._users.find_by_email(
                normal_email(email), account_name.strip() or None
            )
        except InvalidUserError:
            matches = []
        if len(matches) > 1:
            raise AccountNeededError(f"several accounts have the user {email.strip()}")
        found = matches[0] if matches else None
        stored = found[0].password_hash if found else dummy
        if not await self._verify(stored, password) or found is None:
            return None
        record, account = found
        if self._hasher.check_needs_rehash(stored):
            await self._users.rehash(record.id, stored, await self._hash(password))
        now = self._clock.now()
        await self._users.touch_sign_in(record.id, now)
        return _info(record), account

    async def session_user(self, user_id: str) -> tuple[DashboardUserInfo, Account] | None:
        """The user behind a session and their account; None once the user is removed."""
        found = await self._users.find_by_id(user_id)
        return None if found is None else (_info(found[0]), found[1])

    async def end_sessions(self, user_id: str) -> None:
        """Sign-out: every session of the user issued until now ends (a copied cookie too)."""
        await self._users.end_sessions(user_id, self._clock.now())

    async def list(self, account_id: str) -> list[DashboardUserInfo]:
        """The account's users by email."""
        return [_info(record) for record in await self._users.list_for(account_id)]

    async def remove(self, account_id: str, email: str) -> None:
        """Remove the account's user (their sessions end at once). Raises
        :class:`NotFoundError` when the account has no user with this email."""
        if not await self._users.delete(account_id, _lookup_form(email)):
            raise NotFoundError(f"no dashboard user {email.strip()}")

    async def set_password(self, account_id: str, email: str, password: str) -> None:
        """Give the account's user a new password (their older sessions end). Raises
        :class:`InvalidUserError` for a short one, :class:`NotFoundError` for no such user."""
        check_password(password)
        new_hash = await self._hash(password)
        if not await self._users.set_password(account_id, _lookup_form(email), new_hash):
            raise NotFoundError(f"no dashboard user {email.strip()}")

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, stored: str, password: str) -> bool:
        async with self._hashing:
            return await asyncio.to_thread(self._matches, stored, password)

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _dummy(self) -> str:
        # Made at the first sign-in, whatever its email (so that first one is no slower for an
        # unknown email), not at start-up: every CLI command builds this service.
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(secrets.token_urlsafe(MIN_PASSWORD_CHARS))
        return self._dummy_hash


def _lookup_form(email: str) -> str:
    # Removing or resetting takes any spelling of a stored email, valid or not.
    return email.strip().lower()
