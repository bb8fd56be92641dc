"""PolicyCache rules that need control a real server cannot give: concurrency and store faults.

The end-to-end rules (id change, server down, expiry) run against a real HTTPS server in
tests/integration/policy; here the TXT answers, the policy source and the store are in-test
doubles so each rule is driven exactly.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from postillon.clock import FakeClock
from postillon.errors import TemporaryError
from postillon.policy.cache import REFRESH_CONCURRENCY, PolicyCache
from postillon.policy.errors import PolicyHttpError
from postillon.policy.model import MtaStsMode, MtaStsPolicy
from postillon.policy.store import MemoryPolicyStore

POLICY = b"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"


class Txt:
    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = records
        self.queries: list[str] = []

    async def txt(self, name: str) -> list[str]:
        self.queries.append(name)
        return self.records.get(name, [])


class Source:
    """Serves ``body`` (or raises ``error``); waits for ``gate`` when one is set."""

    def __init__(self, body: bytes = POLICY) -> None:
        self.body = body
        self.error: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.fetched: list[str] = []

    async def fetch(self, domain: str) -> bytes:
        self.fetched.append(domain)
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.body


class BrokenStore:
    async def load(self, domain: str) -> MtaStsPolicy | None:
        raise TemporaryError("database is locked")

    async def save(self, policy: MtaStsPolicy) -> None:
        raise TemporaryError("database is locked")


def _cache(
    txt: Txt, source: Source, clock: FakeClock, store: MemoryPolicyStore | BrokenStore | None = None
) -> PolicyCache:
    return PolicyCache(txt=txt, source=source, store=store or MemoryPolicyStore(), clock=clock)


RECORDS = {"_mta-sts.example.com": ["v=STSv1; id=a1"]}


async def test_concurrent_callers_share_one_fetch() -> None:
    source = Source()
    source.gate = asyncio.Event()
    cache = _cache(Txt(RECORDS), source, FakeClock())
    callers = [asyncio.ensure_future(cache.policy_for("example.com")) for _ in range(5)]
    await asyncio.sleep(0)
    source.gate.set()
    results = await asyncio.gather(*callers)
    assert source.fetched == ["example.com"]
    assert all(r is results[0] and r is not None for r in results)


async def test_a_cancelled_caller_does_not_cancel_the_shared_lookup() -> None:
    source = Source()
    source.gate = asyncio.Event()
    cache = _cache(Txt(RECORDS), source, FakeClock())
    impatient = asyncio.ensure_future(cache.policy_for("example.com"))
    patient = asyncio.ensure_future(cache.policy_for("example.com"))
    await asyncio.sleep(0)
    impatient.cancel()
    source.gate.set()
    assert await patient is not None
    assert impatient.cancelled()


async def test_domain_names_are_normalised_and_invalid_ones_have_no_policy() -> None:
    txt = Txt(RECORDS)
    cache = _cache(txt, Source(), FakeClock())
    first = await cache.policy_for("Example.COM.")
    assert first is not None
    assert first.domain == "example.com"
    assert await cache.policy_for("example.com") is first
    assert await cache.policy_for("bad domain/..") is None
    assert txt.queries == ["_mta-sts.example.com"] * 2


async def test_a_store_that_fails_does_not_stop_delivery() -> None:
    cache = _cache(Txt(RECORDS), Source(), FakeClock(), BrokenStore())
    policy = await cache.policy_for("example.com")
    assert policy is not None
    assert await cache.policy_for("example.com") is policy


async def test_an_expired_stored_policy_is_not_used() -> None:
    clock = FakeClock()
    store = MemoryPolicyStore()
    stale = MtaStsPolicy(
        "example.com", "a1", MtaStsMode.ENFORCE, ("old.example.com",), 60, clock.now()
    )
    await store.save(stale)
    clock.advance(timedelta(seconds=61))
    source = Source()
    source.error = PolicyHttpError("503")
    assert await _cache(Txt(RECORDS), source, clock, store).policy_for("example.com") is None


async def test_a_stored_policy_for_another_domain_is_never_used() -> None:
    clock = FakeClock()

    class CrossedStore(MemoryPolicyStore):
        async def load(self, domain: str) -> MtaStsPolicy | None:
            return MtaStsPolicy("other.example", "a1", MtaStsMode.NONE, (), 600, clock.now())

    source = Source()
    source.error = PolicyHttpError("503")
    cache = _cache(Txt(RECORDS), source, clock, CrossedStore())
    assert await cache.policy_for("example.com") is None


async def test_an_invalid_new_policy_keeps_the_cached_one() -> None:
    txt = Txt(RECORDS)
    source = Source()
    cache = _cache(txt, source, FakeClock())
    cached = await cache.policy_for("example.com")
    txt.records = {"_mta-sts.example.com": ["v=STSv1; id=a2"]}
    source.body = b"version: STSv1\nmode: enforce\nmax_age: 86400\n"  # no mx
    assert await cache.policy_for("example.com") is cached
    assert len(source.fetched) == 2


async def test_refresh_due_renews_quiet_domains_before_expiry() -> None:
    clock = FakeClock()
    source = Source()
    cache = _cache(Txt(RECORDS), source, clock)
    first = await cache.policy_for("example.com")
    assert await cache.refresh_due() == 0
    clock.advance(timedelta(hours=12))
    assert await cache.refresh_due() == 1
    renewed = await cache.policy_for("example.com")
    assert first is not None
    assert renewed is not None
    assert renewed.fetched_at == clock.now()
    assert len(source.fetched) == 2


@pytest.mark.parametrize("mode", ["none", "testing"])
async def test_every_mode_is_cached_with_its_id(mode: str) -> None:
    source = Source(POLICY.replace(b"enforce", mode.encode()))
    cache = _cache(Txt(RECORDS), source, FakeClock())
    policy = await cache.policy_for("example.com")
    assert policy is not None
    assert (policy.mode.value, policy.id) == (mode, "a1")


async def test_refresh_due_checks_a_bounded_number_of_domains_at_once() -> None:
    domains = [f"d{i}.example" for i in range(50)]
    records = {f"_mta-sts.{d}": ["v=STSv1; id=a1"] for d in domains}
    clock = FakeClock()
    in_flight = peak = 0

    class CountingSource(Source):
        async def fetch(self, domain: str) -> bytes:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.001)
            in_flight -= 1
            return await super().fetch(domain)

    source = CountingSource(POLICY.replace(b"mx.example.com", b"*.example"))
    cache = _cache(Txt(records), source, clock)
    await asyncio.gather(*(cache.policy_for(d) for d in domains))
    clock.advance(timedelta(hours=12))
    peak = 0
    assert await cache.refresh_due() == len(domains)
    assert peak == REFRESH_CONCURRENCY
    assert sorted(source.fetched[len(domains) :]) == sorted(domains)
