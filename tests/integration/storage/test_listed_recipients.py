"""A listing carries the first recipients of each message and their count, never every
recipient of a large message. On SQLite and PostgreSQL."""

from __future__ import annotations

from postillon.storage import MessageFilter, SqlStore
from postillon.storage.reads import LISTED_RECIPIENTS
from tests.integration.storage.builders import message


async def test_a_listing_pages_recipients_per_message(store: SqlStore) -> None:
    account = await store.ensure_account("acme")
    many = [f"r{i:03}@x.test" for i in range(LISTED_RECIPIENTS + 5)]
    big = await store.enqueue(message(account.id, *many))
    small = await store.enqueue(message(account.id, "a@x.test", "b@x.test"))

    page = await store.list_messages(MessageFilter(account_id=account.id), limit=10)

    by_id = {view.id: view for view in page.items}
    listed_big, listed_small = by_id[big.message_id], by_id[small.message_id]
    listed = [r.address for r in listed_big.recipients]
    assert len(listed) == LISTED_RECIPIENTS
    assert len(set(listed)) == LISTED_RECIPIENTS
    assert set(listed) <= set(many)
    assert listed_big.total_recipients == len(many)
    assert sorted(r.address for r in listed_small.recipients) == ["a@x.test", "b@x.test"]
    assert listed_small.total_recipients == 2
    full = await store.get_message(big.message_id)
    assert full is not None
    assert full.total_recipients == len(full.recipients) == len(many)
