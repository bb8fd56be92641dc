"""TLS-RPT counts and report claims in the store, on SQLite and PostgreSQL.

A session counts in the commit that records its attempt, so a second store (a restart, another
node) reads exactly what was committed; a day's report is claimed by one node only.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from postillon.clock import FakeClock
from postillon.storage.records import TlsRptSession
from postillon.storage.tlsrpt_sql import SqlTlsRpt
from tests.integration.storage.builders import delivered, message
from tests.integration.storage.conftest import StoreFactory

LEASE_S = 300.0
HOLD = timedelta(minutes=15)


def _session(result: str = "") -> TlsRptSession:
    return TlsRptSession(
        day="2026-12-04",
        policy_domain="example.test",
        policy_type="tlsa",
        policy_strings=("3 1 1 " + "ab" * 32,),
        mx_host="mx1.example.test",
        result_type=result,
        receiving_ip="192.0.2.25" if result else "",
    )


async def test_sessions_count_with_their_attempt_summed_over_nodes_and_survive_a_restart(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    store = await open_store()
    account = await store.ensure_account("acme")
    # Two nodes count the same kind of session on their own rows; the day sums them.
    for owner, result in (("w1", ""), ("w2", ""), ("w1", "tlsa-invalid")):
        await store.enqueue(message(account.id, "a@example.test"))
        (job,) = await store.claim_due(owner, clock.now(), LEASE_S, 10)
        outcome = replace(delivered(job.recipients[0].id, clock.now()), tlsrpt=(_session(result),))
        await store.record_outcomes(owner, [outcome])

    restarted = await open_store()
    counts = await SqlTlsRpt(restarted.engines).counts("2026-12-04")
    got = {(c.session.result_type, c.session.receiving_ip): c.sessions for c in counts}
    assert got == {("", ""): 2, ("tlsa-invalid", "192.0.2.25"): 1}
    assert counts[0].session.policy_strings == ("3 1 1 " + "ab" * 32,)
    assert await SqlTlsRpt(restarted.engines).counts("2026-12-05") == []


async def test_one_node_claims_a_days_report_and_a_sent_one_is_never_claimed_again(
    open_store: StoreFactory, clock: FakeClock
) -> None:
    one, two = SqlTlsRpt((await open_store()).engines), SqlTlsRpt((await open_store()).engines)
    claim = {"day": "2026-12-04", "policy_domain": "example.test", "report_id": "r1"}
    won = await asyncio.gather(
        one.claim(**claim, owner="n1", now=clock.now(), hold=HOLD),
        two.claim(**claim, owner="n2", now=clock.now(), hold=HOLD),
    )
    assert sorted(won) == [False, True]
    winner, owner = (one, "n1") if won[0] else (two, "n2")
    # Failed: released, so the next pass (any node) takes it again.
    await winner.finish(
        day="2026-12-04", policy_domain="example.test", owner=owner, now=clock.now(), error="x"
    )
    clock.advance(timedelta(seconds=1))
    assert await two.claim(**claim, owner="n2", now=clock.now(), hold=HOLD)
    await two.finish(
        day="2026-12-04", policy_domain="example.test", owner="n2", now=clock.now(), error=None
    )
    clock.advance(HOLD * 2)
    assert not await one.claim(**claim, owner="n1", now=clock.now(), hold=HOLD)
