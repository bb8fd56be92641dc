"""Group commit of concurrent enqueues: fewer commits, errors stay with the caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from postillon.clock import SystemClock
from postillon.errors import PostillonError
from postillon.storage.group_commit import GroupCommitEnqueuer
from postillon.storage.records import NewMessage, NewRecipient
from postillon.storage.sql_store import SqlStore

pytestmark = pytest.mark.timeout(60)


def message(account_id: str, n: int) -> NewMessage:
    return NewMessage(
        account_id=account_id,
        mail_from="bounces@postillon.test",
        recipients=(NewRecipient(f"r{n}@example.net"),),
        body=f"Subject: {n}\r\n\r\nbody {n}\r\n".encode(),
    )


async def test_concurrent_enqueues_share_commits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = SqlStore.from_url(url, SystemClock())
    await store.migrate()
    account = await store.ensure_account("bulk")
    enqueuer = GroupCommitEnqueuer(store)
    results = await asyncio.gather(*(enqueuer.enqueue(message(account.id, n)) for n in range(60)))
    await enqueuer.close()
    assert len({r.message_id for r in results}) == 60
    assert 1 <= enqueuer.commits < 60  # shared: concurrent callers rode the same commit
    await store.close()

    reopened = SqlStore.from_url(url, SystemClock())  # durable: another store sees them all
    for result in results:
        assert await reopened.get_message(result.message_id) is not None
    await reopened.close()


async def test_a_bad_message_fails_only_its_caller(tmp_path: Path) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'q.db'}", SystemClock())
    await store.migrate()
    account = await store.ensure_account("bulk")
    enqueuer = GroupCommitEnqueuer(store)
    good = [message(account.id, n) for n in range(9)]
    bad = message("no-such-account", 99)
    outcomes = await asyncio.gather(
        *(enqueuer.enqueue(m) for m in [*good[:5], bad, *good[5:]]), return_exceptions=True
    )
    await enqueuer.close()
    assert isinstance(outcomes[5], PostillonError)
    stored = [o for i, o in enumerate(outcomes) if i != 5]
    for outcome in stored:
        assert not isinstance(outcome, BaseException)
        assert await store.get_message(outcome.message_id) is not None
    await store.close()
