"""Fair slots: freed slots go to accounts in turns, transactional first within an account."""

from __future__ import annotations

import asyncio

import pytest

from postillon.delivery.fair_slots import FairSlots


async def _queue(slots: FairSlots, order: list[str], name: str, account: str, rank: int) -> None:
    await slots.acquire(account, rank)
    order.append(name)


async def _served_in(slots: FairSlots, waiters: list[tuple[str, str, int]]) -> list[str]:
    order: list[str] = []
    tasks = [asyncio.create_task(_queue(slots, order, *w)) for w in waiters]
    await asyncio.sleep(0)  # every waiter is queued
    for _ in waiters:
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    return order


async def test_a_late_account_is_served_next_not_after_the_backlog() -> None:
    slots = FairSlots(1)
    await slots.acquire("bulk")
    backlog = [(f"bulk{n}", "bulk", 0) for n in range(5)]

    order = await _served_in(slots, [*backlog, ("reset", "tx", 0)])

    assert order[:2] == ["bulk0", "reset"]
    assert order[2:] == ["bulk1", "bulk2", "bulk3", "bulk4"]


async def test_accounts_take_turns_and_transactional_goes_first_within_one() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")
    waiters = [("a-news", "a", 1), ("a-news2", "a", 1), ("b1", "b", 0), ("a-reset", "a", 0)]

    order = await _served_in(slots, waiters)

    assert order == ["a-reset", "b1", "a-news", "a-news2"]


async def test_free_slots_are_granted_at_once_and_counted_back() -> None:
    slots = FairSlots(2)
    await slots.acquire("a")
    await slots.acquire("b")
    assert slots.free == 0
    slots.release()
    slots.release()
    assert slots.free == 2


async def test_a_cancelled_waiter_loses_its_turn_and_no_slot() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")
    order: list[str] = []
    gone = asyncio.create_task(_queue(slots, order, "gone", "b", 0))
    kept = asyncio.create_task(_queue(slots, order, "kept", "c", 0))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)

    slots.release()
    await asyncio.wait_for(kept, timeout=1)
    slots.release()

    assert order == ["kept"]
    assert gone.cancelled()
    assert slots.free == 1
    assert slots.waiting() == 0


async def test_a_waiter_cancelled_after_being_served_passes_the_slot_on() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")
    order: list[str] = []
    served = asyncio.create_task(_queue(slots, order, "served", "b", 0))
    nxt = asyncio.create_task(_queue(slots, order, "next", "c", 0))
    await asyncio.sleep(0)
    slots.release()  # hands the slot to "served" ...
    served.cancel()  # ... which is cancelled before it runs
    await asyncio.wait_for(nxt, timeout=1)

    assert order == ["next"]


def test_no_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FairSlots(0)
