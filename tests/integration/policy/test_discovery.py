"""Discovery end to end: DNS double → PolicyCache → PolicyFetcher → real HTTPS policy hosts.

Time is a FakeClock; certificates and servers are real (127.0.0.61-63:443).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from postillon.clock import FakeClock
from postillon.policy.cache import FETCH_RETRY_AFTER_S, PolicyCache
from postillon.policy.decision import decide_mx
from postillon.policy.fetch import MAX_POLICY_BYTES, PolicyFetcher
from postillon.policy.model import MAX_POLICY_LIFETIME_S, MtaStsMode
from postillon.policy.store import MemoryPolicyStore
from tests.integration.policy.conftest import StaticDns, policy_body, policy_server
from tests.support.certs import CertKind, TestPki
from tests.support.https_server import ScriptedResponse

pytestmark = pytest.mark.timeout(30)

IP = "127.0.0.61"
OTHER_IP = "127.0.0.62"
DOMAIN = "policy.example"
RECORD = "v=STSv1; id=one;"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryPolicyStore:
    return MemoryPolicyStore()


@pytest.fixture
async def cache(
    dns: StaticDns, fetcher: PolicyFetcher, store: MemoryPolicyStore, clock: FakeClock
) -> AsyncIterator[PolicyCache]:
    policies = PolicyCache(txt=dns, source=fetcher, store=store, clock=clock)
    yield policies
    await policies.aclose()


async def test_good_enforce_policy_applies_and_is_stored(
    pki: TestPki, dns: StaticDns, cache: PolicyCache, store: MemoryPolicyStore, clock: FakeClock
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body(mx=("mx1.mail.example", "*.b.example")))
        policy = await cache.policy_for(DOMAIN)
    assert policy is not None
    assert (policy.domain, policy.id, policy.mode) == (DOMAIN, "one", MtaStsMode.ENFORCE)
    assert policy.mx == ("mx1.mail.example", "*.b.example")
    assert (policy.max_age_s, policy.fetched_at) == (86400, clock.now())
    assert await store.load(DOMAIN) == policy
    assert decide_mx(policy, "mx2.b.example").is_allowed
    assert not decide_mx(policy, "a.mx2.b.example").is_allowed


async def test_an_unchanged_id_uses_the_cache_without_fetching(
    pki: TestPki, dns: StaticDns, cache: PolicyCache
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body())
        first = await cache.policy_for(DOMAIN)
        second = await cache.policy_for(DOMAIN)
    assert first is not None
    assert second is first
    assert len(server.requests) == 1
    # Still looked the TXT record up each time, so an id change is seen before the next delivery.
    assert dns.txt_queries == [f"_mta-sts.{DOMAIN}"] * 2


async def test_a_changed_id_refetches_before_the_next_delivery(
    pki: TestPki, dns: StaticDns, cache: PolicyCache
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body(mx=("old.mail.example",)))
        old = await cache.policy_for(DOMAIN)
        server.response = ScriptedResponse(body=policy_body(mode="testing", mx=("new.example",)))
        dns.publish(DOMAIN, "v=STSv1; id=two")
        new = await cache.policy_for(DOMAIN)
    assert old is not None
    assert new is not None
    assert (old.id, old.mx) == ("one", ("old.mail.example",))
    assert (new.id, new.mode, new.mx) == ("two", MtaStsMode.TESTING, ("new.example",))
    assert len(server.requests) == 2


async def test_policy_server_down_keeps_the_cached_policy_until_it_expires(
    pki: TestPki, dns: StaticDns, cache: PolicyCache, clock: FakeClock
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body(max_age="86400"))
        cached = await cache.policy_for(DOMAIN)
    assert cached is not None
    # The server is gone. A new id asks for a fetch, which fails: the cached policy stays.
    dns.publish(DOMAIN, "v=STSv1; id=two")
    assert await cache.policy_for(DOMAIN) == cached
    # Past half-life (refresh time), after the retry pause: the fetch fails again, still cached.
    clock.advance(timedelta(hours=13))
    assert await cache.policy_for(DOMAIN) == cached
    # Past max_age, with nothing fetched: no policy any more.
    clock.advance(timedelta(hours=11, seconds=1))
    assert await cache.policy_for(DOMAIN) is None


async def test_txt_record_gone_keeps_the_cached_policy(
    pki: TestPki, dns: StaticDns, cache: PolicyCache
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body())
        cached = await cache.policy_for(DOMAIN)
        dns.publish(DOMAIN)
        assert await cache.policy_for(DOMAIN) == cached
        dns.fail_txt = True
        assert await cache.policy_for(DOMAIN) == cached
    assert len(server.requests) == 1


async def test_a_policy_expires_after_one_week_whatever_its_max_age(
    pki: TestPki, dns: StaticDns, cache: PolicyCache, clock: FakeClock
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body(max_age="31557600"))
        policy = await cache.policy_for(DOMAIN)
    assert policy is not None
    assert policy.max_age_s == MAX_POLICY_LIFETIME_S
    clock.advance(timedelta(seconds=MAX_POLICY_LIFETIME_S - 1))
    assert await cache.policy_for(DOMAIN) == policy
    clock.advance(timedelta(seconds=1))
    assert await cache.policy_for(DOMAIN) is None


async def test_refresh_starts_before_expiry_with_the_same_id(
    pki: TestPki, dns: StaticDns, cache: PolicyCache, clock: FakeClock
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body(max_age="86400"))
        first = await cache.policy_for(DOMAIN)
        clock.advance(timedelta(hours=11))
        assert await cache.policy_for(DOMAIN) is first
        clock.advance(timedelta(hours=1))
        refreshed = await cache.policy_for(DOMAIN)
    assert first is not None
    assert refreshed is not None
    assert refreshed.fetched_at == clock.now()
    assert refreshed.expires_at > first.expires_at
    assert len(server.requests) == 2


async def test_a_failed_fetch_is_retried_for_the_same_id_only_after_a_pause(
    pki: TestPki, dns: StaticDns, cache: PolicyCache, clock: FakeClock
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(status=503)
        assert await cache.policy_for(DOMAIN) is None
        server.response = ScriptedResponse(body=policy_body())
        assert await cache.policy_for(DOMAIN) is None
        assert len(server.requests) == 1
        clock.advance(FETCH_RETRY_AFTER_S)
        assert await cache.policy_for(DOMAIN) is not None
    assert len(server.requests) == 2


async def test_a_restart_keeps_policies_through_the_store(
    *,
    pki: TestPki,
    dns: StaticDns,
    cache: PolicyCache,
    fetcher: PolicyFetcher,
    store: MemoryPolicyStore,
    clock: FakeClock,
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body())
        before = await cache.policy_for(DOMAIN)
    restarted = PolicyCache(txt=dns, source=fetcher, store=store, clock=clock)
    # The policy host is down after the restart: the stored policy applies.
    assert await restarted.policy_for(DOMAIN) == before


async def test_policies_are_per_recipient_domain_even_with_shared_mx_hosts(
    pki: TestPki, dns: StaticDns, cache: PolicyCache
) -> None:
    dns.publish(DOMAIN, RECORD, policy_host_ip=IP)
    dns.publish("other.example", "v=STSv1; id=b", policy_host_ip=OTHER_IP)
    async with (
        policy_server(pki, DOMAIN, IP) as strict,
        policy_server(pki, "other.example", OTHER_IP) as relaxed,
    ):
        strict.response = ScriptedResponse(body=policy_body(mx=("mx.shared.example",)))
        relaxed.response = ScriptedResponse(body=policy_body(mode="none", mx=()))
        enforce = await cache.policy_for(DOMAIN)
        none = await cache.policy_for("other.example")
        unpublished = await cache.policy_for("third.example")
    assert enforce is not None
    assert none is not None
    assert (enforce.mode, none.mode, unpublished) == (MtaStsMode.ENFORCE, MtaStsMode.NONE, None)
    assert decide_mx(none, "mx.shared.example").mode is MtaStsMode.NONE
    assert decide_mx(unpublished, "mx.shared.example").mode is None


@pytest.mark.parametrize(
    ("records", "response", "kind", "reason"),
    [
        pytest.param(
            [RECORD],
            ScriptedResponse(body=b"a" * (2 * MAX_POLICY_BYTES)),
            "valid",
            str(MAX_POLICY_BYTES),
            id="oversize",
        ),
        pytest.param(
            [RECORD],
            ScriptedResponse(status=302, location="/elsewhere"),
            "valid",
            "redirect 302",
            id="redirect",
        ),
        pytest.param(
            [RECORD],
            ScriptedResponse(content_type="text/html", body=policy_body()),
            "valid",
            "Content-Type",
            id="wrong-content-type",
        ),
        pytest.param(
            [RECORD], ScriptedResponse(body=policy_body()), "self_signed", "certif", id="wrong-ca"
        ),
        pytest.param(
            [RECORD],
            ScriptedResponse(body=policy_body()),
            "wrong_name",
            "certif",
            id="wrong-host-name",
        ),
        pytest.param(
            [RECORD], ScriptedResponse(body=policy_body()), "expired", "certif", id="expired-cert"
        ),
        pytest.param(
            [RECORD],
            ScriptedResponse(body=policy_body(max_age="-1")),
            "valid",
            "max_age",
            id="bad-max-age",
        ),
        pytest.param(
            [RECORD],
            ScriptedResponse(body=policy_body(max_age="31557601")),
            "valid",
            "max_age",
            id="max-age-over-a-year",
        ),
        pytest.param(
            [RECORD],
            ScriptedResponse(body=policy_body(mode="report")),
            "valid",
            "mode",
            id="bad-mode",
        ),
        pytest.param(
            [RECORD, "v=STSv1; id=two"],
            ScriptedResponse(body=policy_body()),
            "valid",
            "exactly one",
            id="two-txt-records",
        ),
        pytest.param(
            ["v=STSv1; x=1"],
            ScriptedResponse(body=policy_body()),
            "valid",
            "no id",
            id="missing-id",
        ),
    ],
)
async def test_bad_policy_means_no_policy_logged_with_the_reason(
    *,
    pki: TestPki,
    dns: StaticDns,
    cache: PolicyCache,
    records: list[str],
    response: ScriptedResponse,
    kind: CertKind,
    reason: str,
) -> None:
    dns.publish(DOMAIN, *records, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP, kind) as server:
        server.response = response
        with capture_logs() as logs:
            policy = await cache.policy_for(DOMAIN)
    assert policy is None
    assert any(reason in str(entry.get("reason", "")) for entry in logs), logs
    if len(records) != 1 or "id=" not in records[0]:
        assert server.requests == []  # no valid record: the policy host is never asked
