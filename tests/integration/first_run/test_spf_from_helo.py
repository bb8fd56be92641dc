"""With no ``spf_addresses`` nor ``bind_addresses`` configured, a sender domain's SPF record
says ``a:<helo_name>`` and verification checks the addresses that name resolves to, on the
real test DNS server (knot)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import DeliverySettings, DnsSettings, Settings, StorageSettings
from postillon.dkim import MasterKey
from postillon.domains import RecordPurpose
from postillon.services.container import Services
from postillon.services.domain_views import DomainStatus, DomainView
from postillon.storage import SqlStore
from tests.support.dns_server import TestDns

START = datetime(2026, 12, 5, tzinfo=UTC)
MASTER = MasterKey(b"\x16" * 32)
PUBLIC_ADDRESS = "192.0.2.16"  # only published in the test zone, never bound nor dialled


@pytest.fixture
async def world(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[tuple[Services, str]]:
    origin = test_dns.new_origin("helospf").rstrip(".")
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        dns=DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=3.0),
        delivery=DeliverySettings(helo_name=f"mta.{origin}"),
    )
    clock = FakeClock(START)
    store = SqlStore.from_url(settings.storage.url, clock)
    await store.migrate()
    services = Services.build(settings, store, None, clock, master_key=MASTER)
    yield services, origin
    await services.close()
    await store.close()


def zone(view: DomainView, *extra: str) -> str:
    lines = list(extra)
    for record in view.records:
        if record.type == "TXT":
            strings = " ".join(f'"{s}"' for s in record.value_strings)
            lines.append(f"{record.name}. TXT {strings}")
    return "\n".join(lines)


async def test_spf_names_the_helo_host_and_verifies_against_its_address(
    world: tuple[Services, str], test_dns: TestDns
) -> None:
    services, origin = world
    await services.keys.create("acme")
    account = await services.keys.account_named("acme")
    added = await services.domains.add(account, origin)
    spf = next(r for r in added.records if r.purpose == RecordPurpose.SPF.value)
    test_dns.add_zone(origin, zone(added, f"mta A {PUBLIC_ADDRESS}"))
    verified = await services.domains.verify(account, origin)

    assert spf.value == f"v=spf1 a:mta.{origin} -all"
    assert verified.status is DomainStatus.VERIFIED


async def test_a_helo_name_without_address_says_what_to_set(
    world: tuple[Services, str], test_dns: TestDns
) -> None:
    services, origin = world
    await services.keys.create("acme")
    account = await services.keys.account_named("acme")
    added = await services.domains.add(account, origin)
    test_dns.add_zone(origin, zone(added))
    checked = await services.domains.verify(account, origin)

    spf = next(r for r in checked.records if r.purpose == RecordPurpose.SPF.value)
    assert checked.status is DomainStatus.FAILED
    assert spf.status == "mismatch"
    assert "[delivery] spf_addresses" in (spf.problem or "")
