"""The suppression list as an account manages it: read a page (searched by address), add an
address by hand, remove one.

Owns checking a hand-typed address (one bare mailbox, the way a recipient is checked) and the
reason a hand-added row carries (:data:`MANUAL_REASON`). Every call is scoped to the account
passed in: another account's rows are never read or changed. It must not know about HTTP.
"""

from __future__ import annotations

from postillon.message.address import parse_address
from postillon.message.errors import AddressError
from postillon.storage.protocol import Store
from postillon.storage.records import Account
from postillon.storage.suppression_list import address_key
from postillon.storage.suppressions_sql import SqlSuppressions, SuppressionPage

# The reason of an address the account added itself (bounces give their own).
MANUAL_REASON = "manual"


class SuppressionService:
    """One account's suppression list, over the Store (writes) and the paged reads."""

    def __init__(self, store: Store, rows: SqlSuppressions) -> None:
        self._store = store
        self._rows = rows

    async def page(
        self, account: Account, *, search: str = "", limit: int, cursor: str | None = None
    ) -> SuppressionPage:
        """The account's suppressions, newest first, whose address contains ``search``.
        Raises StorageError for a malformed cursor."""
        return await self._rows.page(
            account.id, search=search.strip() or None, limit=limit, cursor=cursor
        )

    async def add(self, account: Account, address: str) -> tuple[str, bool]:
        """Suppress ``address`` (one bare ``local@domain``) with reason "manual"; returns the
        address as listed and False when it was listed already. Raises AddressError."""
        parsed = parse_address(address)
        if parsed.display_name is not None or "<" in address:
            raise AddressError("give the bare address, without a name or angle brackets")
        added = await self._store.suppress(account.id, parsed.addr_spec, MANUAL_REASON)
        return address_key(parsed.addr_spec), added

    async def remove(self, account: Account, address: str) -> bool:
        """Take ``address`` off the account's list; False when the account had no such row."""
        return await self._store.unsuppress(account.id, address)
