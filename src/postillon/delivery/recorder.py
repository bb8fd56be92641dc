"""Group commit of delivery outcomes: many finished jobs, one store transaction.

Every finished job must be recorded before its lease runs out, and every record is a durable
commit. Committing each job alone makes the database the bottleneck (one fsync and one write
lock per job); instead finished jobs queue here and one writer commits whatever has gathered
while the previous commit ran. A job's ``record`` returns only after the commit that carried
it, so nothing is reported done before it is on disk.

Must not decide outcomes, and must not hold a job's outcomes longer than one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from postillon.errors import PostillonError
from postillon.storage.protocol import Store
from postillon.storage.records import RecipientOutcome

# The most outcomes in one commit: large enough to absorb a burst of finished jobs, small
# enough that one transaction stays short (other nodes' claims wait for it on SQLite).
MAX_BATCH_OUTCOMES = 2000
# Pauses before retrying a commit that failed temporarily; together well under a lease.
RETRY_PAUSES_S = (0.2, 0.5, 1.0)


class OutcomeRecorder:
    """Collects outcomes from concurrent jobs and writes them in shared commits."""

    def __init__(self, store: Store, owner: str) -> None:
        self._store = store
        self._owner = owner
        self._pending: list[tuple[Sequence[RecipientOutcome], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0

    async def record(self, outcomes: Sequence[RecipientOutcome]) -> None:
        """Write ``outcomes``; returns after their commit, raises if it failed."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="outcome-recorder")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcomes, future))
        self._wake.set()
        await asyncio.shield(future)

    async def close(self) -> None:
        """Stop the writer once nothing is pending (after the engine drained)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _commit(self, outcomes: list[RecipientOutcome]) -> None:
        """One commit, tried again after a temporary database failure (a lock timeout, a
        lost connection): a lost record means a second delivery once the lease runs out."""
        for pause_s in (*RETRY_PAUSES_S, None):
            try:
                await self._store.record_outcomes(self._owner, outcomes)
            except PostillonError as error:
                if not error.is_transient or pause_s is None:
                    raise
                await asyncio.sleep(pause_s)
            else:
                return

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, size = [], 0
                while self._pending and size < MAX_BATCH_OUTCOMES:
                    item = self._pending.pop(0)
                    batch.append(item)
                    size += len(item[0])
                outcomes = [o for outs, _ in batch for o in outs]
                try:
                    await self._commit(outcomes)
                except Exception as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                else:
                    self.commits += 1
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
