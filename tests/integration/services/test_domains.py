"""Sender domains: records to publish, verification through the real test DNS, key rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from postillon.clock import FakeClock
from postillon.config.settings import DnsSettings
from postillon.dkim import open_private_key
from postillon.domains.errors import InvalidDomainError
from postillon.services.container import Services
from postillon.services.domain_views import DomainStatus, DomainView
from postillon.services.errors import DomainExistsError, NotFoundError
from postillon.storage import Account
from postillon.storage.schema import dkim_keys
from tests.integration.services.conftest import MASTER, SOURCE_ADDRESS, World, new_domain
from tests.integration.services.publish import publish
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)

SILENT_ADDRESS = "127.0.0.189"  # ours; nothing listens there


def by_purpose(view: DomainView) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for record in view.records:
        out.setdefault(record.purpose, []).append(record.status)
    return out


async def test_add_returns_the_records_to_publish(world: World, acme: Account) -> None:
    view = await world.services.domains.add(acme, "Shop.Example")

    assert view.name == "shop.example"
    assert view.status is DomainStatus.PENDING
    assert [(r.purpose, r.type, r.name) for r in view.records] == [
        ("dkim", "TXT", f"{view.selector}._domainkey.shop.example"),
        ("spf", "TXT", "pstbounces.shop.example"),
        ("return_path", "MX", "pstbounces.shop.example"),
        ("dmarc", "TXT", "_dmarc.shop.example"),
    ]
    dkim = view.records[0]
    assert dkim.value.startswith("v=DKIM1; k=rsa; p=MII")
    assert "".join(dkim.value_strings) == dkim.value
    assert all(len(s.encode()) <= 255 for s in dkim.value_strings)
    assert view.records[1].value == f"v=spf1 ip4:{SOURCE_ADDRESS} -all"
    assert {r.status for r in view.records} == {"pending"}
    assert view.selector.startswith("pst20261129-")


async def test_the_private_key_is_sealed_under_the_master_key(world: World, acme: Account) -> None:
    view = await world.services.domains.add(acme, "sealed.example")
    async with world.store.writer.connect() as connection:
        [sealed] = (await connection.execute(sa.select(dkim_keys.c.sealed_key))).scalars()

    assert b"PRIVATE KEY" not in sealed
    pem = open_private_key(MASTER, "sealed.example", view.selector, sealed)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("localhost", id="single-label"),
        pytest.param("192.0.2.1", id="ip"),
        pytest.param("bad_domain.example", id="underscore"),
        pytest.param("", id="empty"),
    ],
)
async def test_bad_names_are_refused(world: World, acme: Account, name: str) -> None:
    with pytest.raises(InvalidDomainError):
        await world.services.domains.add(acme, name)


async def test_a_domain_is_added_once_per_account(
    world: World, acme: Account, globex: Account
) -> None:
    await world.services.domains.add(acme, "twice.example")

    with pytest.raises(DomainExistsError):
        await world.services.domains.add(acme, "TWICE.example.")
    other = await world.services.domains.add(globex, "twice.example")
    assert other.status is DomainStatus.PENDING


async def test_verify_without_records_fails_record_by_record(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = new_domain(test_dns, "empty")
    test_dns.add_zone(domain, "www A 192.0.2.1")
    await world.services.domains.add(acme, domain)

    view = await world.services.domains.verify(acme, domain)

    assert view.status is DomainStatus.FAILED
    assert by_purpose(view) == {
        "dkim": ["missing"],
        "spf": ["missing"],
        "return_path": ["missing"],
        "dmarc": ["missing"],
    }
    assert all(r.problem for r in view.records)
    assert view.last_checked_at is not None
    assert view.verified_at is None


async def test_verify_with_the_records_published(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = new_domain(test_dns, "ok")
    added = await world.services.domains.add(acme, domain)
    publish(test_dns, domain, added.records)

    view = await world.services.domains.verify(acme, domain)

    assert view.status is DomainStatus.VERIFIED
    assert {r.status for r in view.records} == {"verified"}
    assert view.dmarc_policy == "none"
    assert view.verified_at == view.last_checked_at
    assert await world.services.domains.get(acme, domain) == view


async def test_a_wrong_key_is_a_mismatch(world: World, acme: Account, test_dns: TestDns) -> None:
    domain = new_domain(test_dns, "wrongkey")
    added = await world.services.domains.add(acme, domain)
    other = await world.services.domains.add(acme, new_domain(test_dns, "otherkey"))
    wrong = [
        other.records[0].__class__(**{**vars(other.records[0]), "name": added.records[0].name})
    ]
    publish(test_dns, domain, [*wrong, *added.records[1:]])

    view = await world.services.domains.verify(acme, domain)

    assert view.status is DomainStatus.FAILED
    assert by_purpose(view)["dkim"] == ["mismatch"]
    assert by_purpose(view)["spf"] == ["verified"]


async def test_another_accounts_domain_is_not_found(
    world: World, acme: Account, globex: Account
) -> None:
    await world.services.domains.add(acme, "mine.example")

    for call in (
        world.services.domains.get(globex, "mine.example"),
        world.services.domains.verify(globex, "mine.example"),
        world.services.domains.delete(globex, "mine.example"),
        world.services.domains.rotate_key(globex, "mine.example"),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert [d.name for d in await world.services.domains.list(globex)] == []
    assert [d.name for d in await world.services.domains.list(acme)] == ["mine.example"]


async def test_delete(world: World, acme: Account) -> None:
    await world.services.domains.add(acme, "gone.example")

    await world.services.domains.delete(acme, "gone.example")

    assert await world.services.domains.list(acme) == []
    with pytest.raises(NotFoundError):
        await world.services.domains.get(acme, "gone.example")


async def test_rotation_signs_with_the_new_key_only_after_it_verifies(
    world: World, acme: Account, test_dns: TestDns, clock: FakeClock
) -> None:
    domain = new_domain(test_dns, "rotate")
    added = await world.services.domains.add(acme, domain)
    publish(test_dns, domain, added.records)
    old = (await world.services.domains.verify(acme, domain)).selector
    clock.advance(timedelta(days=1))

    rotated = await world.services.domains.rotate_key(acme, domain)
    dkim = [r for r in rotated.records if r.purpose == "dkim"]
    new_record = next(r for r in dkim if old not in r.name)
    still_old = await world.services.domains.verify(acme, domain)  # new record not published
    publish(test_dns, domain, rotated.records)
    switched = await world.services.domains.verify(acme, domain)

    assert rotated.selector == old
    assert [r.status for r in dkim] == ["verified", "pending"]
    assert still_old.status is DomainStatus.VERIFIED
    assert still_old.selector == old
    assert switched.selector != old
    assert switched.selector in new_record.name
    assert switched.status is DomainStatus.VERIFIED
    assert [r.name for r in switched.records if r.purpose == "dkim"] == [new_record.name]


async def test_recheck_due_checks_domains_not_checked_for_a_day(
    world: World, acme: Account, test_dns: TestDns, clock: FakeClock
) -> None:
    domain = new_domain(test_dns, "recheck")
    added = await world.services.domains.add(acme, domain)
    publish(test_dns, domain, added.records)
    assert await world.services.domains.recheck_due() == 1  # never checked
    assert await world.services.domains.recheck_due() == 0
    test_dns.add_zone(domain, "www A 192.0.2.1")  # the customer removed the records
    clock.advance(timedelta(hours=25))

    assert await world.services.domains.recheck_due() == 1

    assert (await world.services.domains.get(acme, domain)).status is DomainStatus.FAILED


async def test_a_failed_lookup_does_not_unverify_a_domain(
    world: World, acme: Account, test_dns: TestDns, clock: FakeClock
) -> None:
    domain = new_domain(test_dns, "dnsdown")
    added = await world.services.domains.add(acme, domain)
    publish(test_dns, domain, added.records)
    assert (await world.services.domains.verify(acme, domain)).status is DomainStatus.VERIFIED
    # Nothing listens on this address: every lookup times out.
    silent = DnsSettings(nameservers=(f"{SILENT_ADDRESS}:53",), timeout_s=0.3)
    settings = world.settings.model_copy(update={"dns": silent})
    cut_off = Services.build(settings, world.store, None, clock, master_key=MASTER)
    try:
        view = await cut_off.domains.verify(acme, domain)
    finally:
        await cut_off.close()

    assert view.status is DomainStatus.VERIFIED
    assert by_purpose(view)["spf"] == ["dns_error"]
    assert by_purpose(view)["dkim"] == ["dns_error"]


async def test_verification_results_reach_the_outbox_as_domain_events(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = new_domain(test_dns, "events")
    test_dns.add_zone(domain, "www A 192.0.2.1")
    added = await world.services.domains.add(acme, domain)
    await world.services.domains.verify(acme, domain)  # nothing published yet: dns_failed
    publish(test_dns, domain, added.records)
    await world.services.domains.verify(acme, domain)  # now verified
    await world.services.domains.verify(acme, domain)  # still verified: no second event

    events = await world.store.list_events(account_id=acme.id)
    mine = [e for e in events if e.payload.get("domain") == domain]
    assert [e.type for e in mine] == ["domain.dns_failed", "domain.verified"]
    failed = {r["purpose"]: r["status"] for r in mine[0].payload["records"]}
    assert failed["dkim"] == "missing"
    assert failed["spf"] == "missing"


async def test_a_domain_has_one_pending_key_however_often_it_is_rotated(
    world: World, acme: Account, test_dns: TestDns, clock: FakeClock
) -> None:
    domain = new_domain(test_dns, "onepending")
    added = await world.services.domains.add(acme, domain)
    publish(test_dns, domain, added.records)
    await world.services.domains.verify(acme, domain)
    first = await world.services.domains.rotate_key(acme, domain)
    for _ in range(5):
        again = await world.services.domains.rotate_key(acme, domain)
        assert again.records == first.records
    dkim = [r for r in again.records if r.purpose == "dkim"]
    assert sorted(r.status for r in dkim) == ["pending", "verified"]
