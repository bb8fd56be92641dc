"""Grouping of concurrent ingest requests: many callers, one unit of the writer.

On the single writer every statement is a round trip to the database thread and every unit
runs alone, so a request that inserts its rows by itself costs the whole node its handful of
round trips. Here the requests that arrive while a group is being stored wait together and are
stored by one call of ``group`` (one statement per table for all of them), then answered once
its commit is durable. Requests that share a conflict key (an idempotency key) never go in the
same group: the second waits for the next one and sees the first's row. If a group fails as a
whole, each of its requests is stored alone (``alone``), so one caller's error is never
another's. The first request on an idle node is stored at once (no waiting for company).
Must not reorder one caller's messages, nor answer before the commit that carried them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from postillon.storage.errors import StorageUnavailableError

# Messages in one group at most: a burst is absorbed in a few groups, and one unit stays short
# enough that claims and outcome records waiting behind it on the writer are not held long.
MAX_GROUP_MESSAGES = 500

R = TypeVar("R")
T = TypeVar("T")


@dataclass(eq=False)
class _Waiting(Generic[R, T]):
    request: R
    answer: asyncio.Future[T]


class IngestGroups(Generic[R, T]):
    """``submit(request)`` answers as ``alone(request)`` would, storing requests in groups."""

    def __init__(
        self,
        *,
        group: Callable[[Sequence[R]], Awaitable[list[T]]],
        alone: Callable[[R], Awaitable[T]],
        size: Callable[[R], int],
        conflict: Callable[[R], Hashable | None],
    ) -> None:
        self._group = group
        self._alone = alone
        self._size = size
        self._conflict = conflict
        self._pending: list[_Waiting[R, T]] = []
        self._runner: asyncio.Task[None] | None = None
        self.groups = 0

    async def submit(self, request: R) -> T:
        """Store ``request`` with whatever else is waiting; returns after its commit."""
        loop = asyncio.get_running_loop()
        waiting: _Waiting[R, T] = _Waiting(request, loop.create_future())
        self._pending.append(waiting)
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            self._runner = loop.create_task(self._run(), name="ingest-groups")
        return await asyncio.shield(waiting.answer)

    async def _run(self) -> None:
        try:
            while self._pending:
                await self._store(self._next_group())
        finally:
            for waiting in self._pending:
                _fail(waiting, StorageUnavailableError("ingest stopped"))
            self._pending.clear()

    def _next_group(self) -> list[_Waiting[R, T]]:
        chosen: list[_Waiting[R, T]] = []
        later: list[_Waiting[R, T]] = []
        conflicts: set[Hashable] = set()
        messages = 0
        for waiting in self._pending:
            conflict = self._conflict(waiting.request)
            size = self._size(waiting.request)
            if (chosen and messages + size > MAX_GROUP_MESSAGES) or conflict in conflicts:
                later.append(waiting)
                continue
            chosen.append(waiting)
            messages += size
            if conflict is not None:
                conflicts.add(conflict)
        self._pending = later
        return chosen

    async def _store(self, chosen: list[_Waiting[R, T]]) -> None:
        if len(chosen) > 1:
            try:
                answers = await self._group([waiting.request for waiting in chosen])
            except Exception:  # noqa: S110 - each is tried alone below, and hears its own error
                pass
            else:
                self.groups += 1
                for waiting, answer in zip(chosen, answers, strict=True):
                    if not waiting.answer.done():
                        waiting.answer.set_result(answer)
                return
        for waiting in chosen:
            try:
                answer = await self._alone(waiting.request)
            except Exception as error:
                _fail(waiting, error)
            else:
                self.groups += 1
                if not waiting.answer.done():
                    waiting.answer.set_result(answer)


def _fail(waiting: _Waiting[R, T], error: BaseException) -> None:
    if not waiting.answer.done():
        waiting.answer.set_exception(error)
