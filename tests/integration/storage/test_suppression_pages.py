"""The suppression list read a page at a time (newest first, keyset cursors, address search with
LIKE wildcards taken literally, the source message's subject) and managed by hand through the
service; one account never sees or changes another's rows. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.clock import FakeClock
from postillon.message.errors import AddressError
from postillon.services.suppressions import MANUAL_REASON, SuppressionService
from postillon.storage import SqlStore
from postillon.storage.errors import StorageError
from postillon.storage.suppressions_sql import (
    SqlSuppressions,
    SuppressionPage,
    decode_cursor,
    encode_cursor,
)
from postillon.storage.transactions import Transactions
from tests.integration.storage.builders import hard_bounce, message

LEASE_S = 300.0


def _rows(store: SqlStore, clock: FakeClock) -> SqlSuppressions:
    return SqlSuppressions(Transactions(store.engines, clock))


def _addresses(page: SuppressionPage) -> list[str]:
    return [item.suppression.address for item in page.items]


async def _all_pages(rows: SqlSuppressions, account_id: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):  # bounded: 20 pages is far more than any test lists
        page = await rows.page(account_id, search=None, limit=limit, cursor=cursor)
        pages.append(_addresses(page))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("the cursor never ended")


async def test_pages_are_newest_first_and_cover_every_row_once(
    store: SqlStore, clock: FakeClock
) -> None:
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    # Two rows share a created time: the address breaks the tie, and no page loses one.
    for address in ("old@x.test", "b@x.test", "a@x.test"):
        await store.suppress(acme.id, address, "bounce")
        if address == "old@x.test":
            clock.advance(1)
    clock.advance(1)
    await store.suppress(acme.id, "New@X.test", "bounce")
    clock.advance(1)
    await store.suppress(other.id, "theirs@x.test", "bounce")

    rows = _rows(store, clock)
    assert await _all_pages(rows, acme.id, 2) == [
        ["new@x.test", "a@x.test"],
        ["b@x.test", "old@x.test"],
    ]
    assert await _all_pages(rows, acme.id, 3) == [
        ["new@x.test", "a@x.test", "b@x.test"],
        ["old@x.test"],
    ]
    assert await _all_pages(rows, other.id, 10) == [["theirs@x.test"]]


async def test_rows_added_while_paging_do_not_shift_the_next_page(
    store: SqlStore, clock: FakeClock
) -> None:
    acme = await store.ensure_account("acme")
    for index in range(3):
        await store.suppress(acme.id, f"r{index}@x.test", "bounce")
        clock.advance(1)
    rows = _rows(store, clock)
    first = await rows.page(acme.id, search=None, limit=2, cursor=None)
    await store.suppress(acme.id, "later@x.test", "bounce")
    second = await rows.page(acme.id, search=None, limit=2, cursor=first.next_cursor)
    assert _addresses(first) == ["r2@x.test", "r1@x.test"]
    assert _addresses(second) == ["r0@x.test"]
    assert second.next_cursor is None


@pytest.mark.parametrize(
    ("search", "found"),
    [
        pytest.param("BOB", ["robert.bob@mail.test", "bob@shop.test"], id="substring-any-case"),
        pytest.param("bob@", ["robert.bob@mail.test", "bob@shop.test"], id="local-part-end"),
        pytest.param("rob", ["robert.bob@mail.test"], id="prefix"),
        pytest.param("a_b", ["a_b@x.test"], id="underscore-is-literal"),
        pytest.param("%", ["100%@x.test"], id="percent-is-literal"),
        pytest.param("\\", [], id="escape-character-is-literal"),
        pytest.param("nobody", [], id="no-match"),
        pytest.param("bob\x00", [], id="nul-matches-nothing"),
        pytest.param("  ", ["robert.bob@mail.test", "axb@x.test", "a_b@x.test"], id="blank"),
    ],
)
async def test_search_by_address(
    store: SqlStore, clock: FakeClock, search: str, found: list[str]
) -> None:
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    for address in ("100%@x.test", "bob@shop.test", "a_b@x.test", "axb@x.test"):
        await store.suppress(acme.id, address, "bounce")
        clock.advance(1)
    await store.suppress(acme.id, "Robert.Bob@mail.test", "manual")
    await store.suppress(other.id, "bob@other.test", "bounce")
    service = SuppressionService(store, _rows(store, clock))
    page = await service.page(acme, search=search, limit=3)
    assert _addresses(page) == found


async def test_the_source_message_is_named_while_it_exists_and_is_the_accounts(
    store: SqlStore, clock: FakeClock
) -> None:
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    sent = await store.enqueue(message(acme.id, "gone@example.test", subject="Order 42"))
    [job] = await store.claim_due("node-1", clock.now(), LEASE_S, 10)
    await store.record_outcomes("node-1", [hard_bounce(job.recipients[0].id, clock.now())])
    theirs = await store.enqueue(message(other.id, "x@example.test", subject="Secret"))
    await store.suppress(acme.id, "borrowed@example.test", "manual", theirs.message_id)
    await store.suppress(acme.id, "typed@example.test", MANUAL_REASON)

    rows = _rows(store, clock)
    page = await rows.page(acme.id, search=None, limit=10, cursor=None)
    by_address = {item.suppression.address: item for item in page.items}
    bounced = by_address["gone@example.test"]
    assert bounced.suppression.source_message_id == sent.message_id
    assert bounced.source_subject == "Order 42"
    assert bounced.has_source
    # Another account's message is never named, even when a row points at it.
    assert by_address["borrowed@example.test"].source_subject is None
    assert not by_address["typed@example.test"].has_source

    await store.delete_message(sent.message_id)
    page = await rows.page(acme.id, search="gone", limit=10, cursor=None)
    [after] = page.items
    assert after.suppression.source_message_id == sent.message_id
    assert not after.has_source


async def test_a_malformed_cursor_is_refused(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    rows = _rows(store, clock)
    for cursor in ("not-base64!", encode_cursor(datetime(2026, 1, 1), "a@x.test"), "A" * 5000):
        with pytest.raises(StorageError):
            await rows.page(acme.id, search=None, limit=5, cursor=cursor)


def test_a_cursor_names_its_row() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, '"a b"@x.test')) == (moment, '"a b"@x.test')


async def test_adding_by_hand_validates_and_lists_once(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    service = SuppressionService(store, _rows(store, clock))
    assert await service.add(acme, "  Carol@Example.TEST ") == ("carol@example.test", True)
    assert await service.add(acme, "carol@example.test") == ("carol@example.test", False)
    for bad in ("", "carol", "carol@", "Carol <carol@example.test>", "a@b@c", "x@[127.0.0.1]"):
        with pytest.raises(AddressError):
            await service.add(acme, bad)
    [row] = await store.list_suppressions(acme.id, limit=10)
    assert (row.address, row.reason, row.source_message_id) == (
        "carol@example.test",
        MANUAL_REASON,
        None,
    )


async def test_removing_touches_only_the_accounts_own_row(
    store: SqlStore, clock: FakeClock
) -> None:
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    await store.suppress(acme.id, "shared@x.test", "bounce")
    await store.suppress(other.id, "shared@x.test", "bounce")
    await store.suppress(other.id, "only-theirs@x.test", "bounce")
    service = SuppressionService(store, _rows(store, clock))
    assert await service.remove(acme, "only-theirs@x.test") is False
    assert await service.remove(acme, "SHARED@x.test") is True
    assert await store.list_suppressions(acme.id, limit=10) == []
    theirs = await store.list_suppressions(other.id, limit=10)
    assert sorted(row.address for row in theirs) == ["only-theirs@x.test", "shared@x.test"]


@pytest.mark.parametrize("address", ["a\x00b@x.test", "a\x01@x.test"])
async def test_a_cursor_naming_a_control_character_is_refused(
    store: SqlStore, clock: FakeClock, address: str
) -> None:
    acme = await store.ensure_account("acme")
    forged = encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), address)
    with pytest.raises(StorageError, match="malformed cursor"):
        await _rows(store, clock).page(acme.id, search=None, limit=5, cursor=forged)


async def test_a_search_with_nul_matches_nothing(store: SqlStore, clock: FakeClock) -> None:
    acme = await store.ensure_account("acme")
    await store.suppress(acme.id, "a@x.test", "bounce")
    page = await _rows(store, clock).page(acme.id, search="a\x00", limit=5, cursor=None)
    assert page.items == ()
