"""Fair slots: a counting semaphore whose waiters are served by account in turns.

Owns the order in which a node's claimed jobs get an SMTP slot (globally and per destination).
``asyncio.Semaphore`` serves waiters first come first served, so the jobs a node holds of one
account's backlog would all go before a job of another account claimed a moment later; here a
freed slot goes to the next account in the ring (each account with waiters gets one slot per
turn), and within an account to its lowest stream rank (transactional before broadcast,
queue/stream.py), then oldest. The claim is fair across accounts (storage/claim_turns.py); this
keeps that order inside the node.
It must not do I/O or know about SMTP.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(order=True)
class _Waiter:
    rank: int
    seq: int
    future: asyncio.Future[None] = field(compare=False)


class FairSlots:
    """``value`` slots, handed out in turns by account, then stream rank, then arrival."""

    def __init__(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"slots must be at least 1, not {value}")
        self._free = value
        self._waiting: dict[str, list[_Waiter]] = {}  # account -> its waiters, a heap
        self._ring: deque[str] = deque()  # accounts with waiters, next turn first
        self._seq = itertools.count()

    @property
    def free(self) -> int:
        """Slots nobody holds."""
        return self._free

    def waiting(self) -> int:
        """Waiters not yet served (cancelled ones included until their turn comes)."""
        return sum(len(heap) for heap in self._waiting.values())

    async def acquire(self, account_id: str, rank: int = 0) -> None:
        """Wait for a slot; one account's waiters never make another's wait more than a turn."""
        if self._free > 0 and not self._ring:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heap = self._waiting.get(account_id)
        if heap is None:
            heap = self._waiting[account_id] = []
            self._ring.append(account_id)
        heapq.heappush(heap, _Waiter(rank, next(self._seq), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # served, then cancelled before it ran: pass the slot on
            raise  # a cancelled waiter stays in its heap and is skipped at its turn

    def release(self) -> None:
        """Give a slot back: to the next account's best waiter, or to the free count."""
        while self._ring:
            account_id = self._ring.popleft()
            heap = self._waiting[account_id]
            while heap and heap[0].future.cancelled():
                heapq.heappop(heap)
            if not heap:
                del self._waiting[account_id]
                continue
            waiter = heapq.heappop(heap)
            if heap:
                self._ring.append(account_id)  # its next waiter waits for its next turn
            else:
                del self._waiting[account_id]
            waiter.future.set_result(None)
            return
        self._free += 1

    def ticket(self, account_id: str, rank: int = 0) -> SlotTicket:
        """This account's and rank's way in, as an object with ``acquire``/``release``."""
        return SlotTicket(self, account_id, rank)

    @asynccontextmanager
    async def held(self, account_id: str, rank: int = 0) -> AsyncIterator[None]:
        """Hold a slot for the block."""
        await self.acquire(account_id, rank)
        try:
            yield
        finally:
            self.release()


@dataclass(frozen=True)
class SlotTicket:
    """One account's (and stream rank's) claim on :class:`FairSlots`."""

    slots: FairSlots
    account_id: str
    rank: int

    async def acquire(self) -> None:
        """Wait for a slot in this account's turn."""
        await self.slots.acquire(self.account_id, self.rank)

    def release(self) -> None:
        """Give the slot back."""
        self.slots.release()
