"""MTA-STS policies survive a restart through the database (SQLite here; same SQL on PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from postillon.clock import FakeClock
from postillon.policy.cache import PolicyCache
from postillon.policy.fetch import PolicyFetcher
from postillon.policy.model import MtaStsMode, MtaStsPolicy
from postillon.storage.policy_sql import SqlPolicyStore
from postillon.storage.sql_store import SqlStore
from tests.integration.policy.conftest import StaticDns, policy_body, policy_server
from tests.support.certs import TestPki
from tests.support.https_server import ScriptedResponse

IP = "127.0.0.64"
DOMAIN = "stored.example"


async def open_store(path: Path, clock: FakeClock) -> tuple[SqlStore, SqlPolicyStore]:
    store = SqlStore.from_url(f"sqlite:///{path}", clock)
    await store.migrate()
    return store, SqlPolicyStore(store.engines)


async def test_save_replaces_and_load_reads_back(tmp_path: Path) -> None:
    clock = FakeClock()
    store, policies = await open_store(tmp_path / "q.db", clock)
    first = MtaStsPolicy(
        DOMAIN, "one", MtaStsMode.TESTING, ("mx.stored.example",), 86400, clock.now()
    )
    second = MtaStsPolicy(
        DOMAIN,
        "two",
        MtaStsMode.ENFORCE,
        ("*.stored.example", "mx.stored.example"),
        604800,
        clock.now() + timedelta(hours=1),
    )
    assert await policies.load(DOMAIN) is None
    await policies.save(first)
    await policies.save(second)
    assert await policies.load(DOMAIN) == second
    assert await policies.load("other.example") is None
    await store.close()


async def test_a_restarted_node_uses_the_stored_policy_while_the_host_is_down(
    tmp_path: Path, pki: TestPki, dns: StaticDns, fetcher: PolicyFetcher
) -> None:
    clock = FakeClock()
    db = tmp_path / "q.db"
    dns.publish(DOMAIN, "v=STSv1; id=one;", policy_host_ip=IP)
    store, policies = await open_store(db, clock)
    cache = PolicyCache(txt=dns, source=fetcher, store=policies, clock=clock)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body())
        before = await cache.policy_for(DOMAIN)
    await cache.aclose()
    await store.close()
    assert before is not None

    clock.advance(3600)
    store, policies = await open_store(db, clock)  # a new process: nothing in memory
    restarted = PolicyCache(txt=dns, source=fetcher, store=policies, clock=clock)
    assert await restarted.policy_for(DOMAIN) == before  # the policy host is down now
    await restarted.aclose()
    await store.close()
