"""DKIM keys are made off the event loop, a bounded number at once, and capped per account."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.dkim import SigningKey, generate_ed25519_key
from postillon.services.key_generation import (
    KEYGEN_CONCURRENCY,
    KEYS_PER_ACCOUNT_PER_HOUR,
    KeyGenerationLimitError,
    KeyGenerator,
)

SLOW_S = 0.2


async def test_a_slow_key_does_not_stall_the_event_loop() -> None:
    threads: list[threading.Thread] = []

    def slow_key() -> SigningKey:
        threads.append(threading.current_thread())
        time.sleep(SLOW_S)  # what RSA generation does to the thread that runs it
        return generate_ed25519_key()

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    await KeyGenerator(slow_key, FakeClock()).generate("acct")
    ticker.cancel()
    assert threads[0] is not threading.main_thread()
    assert ticks >= 5  # the loop kept running while the key was made


async def test_at_most_a_few_keys_are_made_at_once() -> None:
    running = peak = 0
    lock = threading.Lock()

    def counted_key() -> SigningKey:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return generate_ed25519_key()

    generator = KeyGenerator(counted_key, FakeClock())
    await asyncio.gather(*(generator.generate(f"a{i}") for i in range(6)))
    assert peak == KEYGEN_CONCURRENCY


async def test_an_account_makes_a_capped_number_of_keys_an_hour() -> None:
    clock = FakeClock()
    generator = KeyGenerator(generate_ed25519_key, clock)
    for _ in range(KEYS_PER_ACCOUNT_PER_HOUR):
        await generator.generate("busy")
    with pytest.raises(KeyGenerationLimitError) as limited:
        await generator.generate("busy")
    assert 3500 < limited.value.retry_after_s <= 3600
    await generator.generate("other")  # per account
    clock.advance(timedelta(hours=1))
    await generator.generate("busy")
