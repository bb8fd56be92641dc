"""Group commit for ingest: concurrent enqueues share one durable commit.

Each accepted message needs its commit on disk before the API answers 202 or the submission
server 250. Committed one by one, ingest is bounded by one sync and one write lock per message;
here concurrent callers queue their messages and one writer stores everything that gathered
while the previous commit ran, with :meth:`Store.enqueue_many`. Every caller still returns only
after the commit that carried its message, so the promise is unchanged.

If a batch fails as a whole (one bad message makes ``enqueue_many`` roll back), its messages are
retried one by one, so one caller's error never becomes another's.
Must not reorder a caller's own messages or answer before the commit.
"""

from __future__ import annotations

import asyncio

from postillon.storage.protocol import Store
from postillon.storage.records import EnqueueResult, NewMessage

# Messages in one commit at most: a burst is absorbed in a few commits, and one transaction
# stays short enough not to stall claims that wait for the write lock.
MAX_BATCH_MESSAGES = 200


class GroupCommitEnqueuer:
    """``enqueue`` with the same contract as :meth:`Store.enqueue`, batched across callers."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: list[tuple[NewMessage, asyncio.Future[EnqueueResult]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self._closing = False

    async def enqueue(self, message: NewMessage) -> EnqueueResult:
        """Store ``message``; returns after the commit that carried it."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="group-commit")
        future: asyncio.Future[EnqueueResult] = asyncio.get_running_loop().create_future()
        self._pending.append((message, future))
        self._wake.set()
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Commit what is pending, then stop the writer."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[:MAX_BATCH_MESSAGES]
                del self._pending[:MAX_BATCH_MESSAGES]
                await self._commit(batch)
            if self._closing:
                return

    async def _commit(self, batch: list[tuple[NewMessage, asyncio.Future[EnqueueResult]]]) -> None:
        try:
            results = await self._store.enqueue_many([message for message, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _resolve(batch[0][1], error=error)
                return
            # The transaction rolled back: store each message alone, so the one that broke the
            # batch fails its own caller and nobody else's.
            for message, future in batch:
                try:
                    _resolve(future, result=await self._store.enqueue(message))
                except Exception as alone:
                    _resolve(future, error=alone)
            return
        self.commits += 1
        for (_, future), result in zip(batch, results, strict=True):
            _resolve(future, result=result)


def _resolve(
    future: asyncio.Future[EnqueueResult],
    *,
    result: EnqueueResult | None = None,
    error: BaseException | None = None,
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)
