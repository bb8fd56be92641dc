"""Sender domains: add (key pair and records to publish), verify through DNS, read, delete,
rotate the DKIM key.

A domain gets a 2048-bit RSA key with a dated selector; the private key is sealed with
AES-256-GCM under the master key before it is stored. Keys move pending -> active -> retired:
a key signs only once its record verified (so rotation publishes the new selector beside the
old one and switches when DNS shows it), and the older active key then retires.
It must not sign messages (see :mod:`.signers`) or know about HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from postillon.clock import Clock
from postillon.config.settings import DeliverySettings, DkimSettings
from postillon.dkim import (
    KeyType,
    MasterKey,
    SigningKey,
    dated_selector,
    generate_ed25519_key,
    generate_rsa_key,
    record_name,
    seal_private_key,
    split_txt,
)
from postillon.dns.records import RecordType
from postillon.domains import (
    CheckStatus,
    DnsLookup,
    DnsRecordSpec,
    RecordCheck,
    RecordPurpose,
    normalize_domain,
    required_records,
    verify_domain,
)
from postillon.domains.records import RecordKind
from postillon.events import EventType
from postillon.services.domain_views import (
    DomainStatus,
    DomainView,
    results_json,
    views_from_results,
)
from postillon.services.errors import DomainExistsError, NotFoundError
from postillon.services.key_generation import KeyGenerator
from postillon.services.signers import SignerCache
from postillon.storage.domains_sql import SqlDomains
from postillon.storage.records import Account
from postillon.storage.tenant_records import (
    CheckUpdate,
    DkimKeyRecord,
    DomainRecord,
    KeyStatus,
    NewDkimKey,
)

# The records of helo_name that an ``a:`` SPF mechanism authorizes (RFC 7208 §5.3).
_ADDRESS_TYPES = (RecordType.A, RecordType.AAAA)

RandomBytes = Callable[[int], bytes]
KeyFactory = Callable[[], SigningKey]
# How often verified domains are checked again by :meth:`DomainService.recheck_due`: a record
# removed from DNS shows within a day; more often would only load the customers' DNS.
RECHECK_INTERVAL = timedelta(hours=24)
# Domains re-checked per housekeeping round: bounded work per round.
RECHECK_BATCH = 50


class DomainService:
    """Sender domains of accounts, with their DKIM keys."""

    def __init__(
        self,
        *,
        domains: SqlDomains,
        signers: SignerCache,
        lookup: DnsLookup,
        master: MasterKey,
        delivery: DeliverySettings,
        dkim: DkimSettings,
        clock: Clock,
        random_bytes: RandomBytes = os.urandom,
        rsa_keys: KeyFactory = generate_rsa_key,
    ) -> None:
        self._domains = domains
        self._signers = signers
        self._lookup = lookup
        self._master = master
        self._delivery = delivery
        self._dkim = dkim
        self._clock = clock
        self._random_bytes = random_bytes
        self._rsa_keys = KeyGenerator(rsa_keys, clock)

    async def add(self, account: Account, name: str) -> DomainView:
        """Add ``name`` with a new key (RSA-2048, and Ed25519 when configured); the view lists
        the records to publish, all pending. Raises InvalidDomainError (422),
        NoSourceAddressesError (an SPF address that is not an IP; settings loaded by the
        loader never hold one), DomainExistsError."""
        domain = normalize_domain(name)
        keys = [self._new_key(domain, await self._rsa_keys.generate(account.id))]
        if self._dkim.ed25519:
            keys.append(self._new_key(domain, generate_ed25519_key()))
        # Build the records before storing: records that cannot be built fail here.
        _specs(domain, [], self._delivery, pending=keys)
        record = await self._domains.add(account.id, domain, DomainStatus.PENDING.value, keys)
        if record is None:
            raise DomainExistsError(f"the domain {domain} exists already")
        return self._view(record)

    async def _spf_addresses(self) -> tuple[str, ...]:
        """The addresses SPF must authorize: the configured public ones, else (the SPF record
        then says ``a:<helo_name>``) the addresses ``helo_name`` resolves to."""
        if self._delivery.public_addresses:
            return self._delivery.public_addresses
        host = self._delivery.helo_name.strip().rstrip(".")
        answers = [await self._lookup.lookup_addresses(host, t) for t in _ADDRESS_TYPES]
        return tuple(address for answer in answers for address in answer.records)

    async def verify(self, account: Account, name: str) -> DomainView:
        """Check every record through DNS; store the results and the domain's status; let a
        pending key whose record verified start signing. Raises NotFoundError."""
        record = await self._get(account, name)
        specs, key_specs = _specs_for(record, self._delivery)
        check = await verify_domain(self._lookup, specs, await self._spf_addresses())
        now = self._clock.now()
        status_by_spec = {(c.spec.purpose, c.spec.name): c.status for c in check.checks}
        spf_ok = all(
            c.status is CheckStatus.VERIFIED
            for c in check.checks
            if c.spec.purpose is RecordPurpose.SPF
        )
        activate = tuple(
            key.id
            for key, spec in key_specs
            if key.status is KeyStatus.PENDING
            and spf_ok
            and status_by_spec.get((spec.purpose, spec.name)) is CheckStatus.VERIFIED
        )
        is_verified = spf_ok and _signing_after(record, activate, status_by_spec, key_specs)
        verified_at: datetime | None
        if is_verified:
            status, verified_at = DomainStatus.VERIFIED, record.verified_at or now
        elif record.status == DomainStatus.VERIFIED.value and _only_dns_errors(
            check.checks, key_specs
        ):
            # A lookup that failed says nothing about the records: keep signing.
            status, verified_at = DomainStatus.VERIFIED, record.verified_at
        else:
            status, verified_at = DomainStatus.FAILED, None
        update = CheckUpdate(
            status=status.value,
            verified_at=verified_at,
            checked_at=now,
            check_results=results_json(check.checks),
            dmarc_policy=check.dmarc_policy,
            activate_key_ids=activate,
            event=_domain_event(record.name, record.status, status, check.checks),
        )
        await self._domains.save_check(record.id, update, record.account_id)
        self._signers.invalidate(account.id, record.name)
        return self._view(await self._get(account, record.name))

    async def get(self, account: Account, name: str) -> DomainView:
        """The account's domain. Raises NotFoundError (also for another account's domain)."""
        return self._view(await self._get(account, name))

    async def list(self, account: Account) -> list[DomainView]:
        """The account's domains, by name."""
        return [self._view(record) for record in await self._domains.list_for(account.id)]

    async def delete(self, account: Account, name: str) -> None:
        """Delete the domain and its keys; mail from it is refused from then on.
        Raises NotFoundError."""
        record = await self._get(account, name)
        await self._domains.delete(account.id, record.name)
        self._signers.invalidate(account.id, record.name)

    async def set_unsubscribe_default(self, account: Account, name: str, value: bool) -> DomainView:
        """Whether single-recipient mail from the domain gets one-click unsubscribe when the
        request does not say. Raises NotFoundError."""
        record = await self._get(account, name)
        await self._domains.set_unsubscribe_default(account.id, record.name, value)
        self._signers.invalidate(account.id, record.name)
        return self._view(await self._get(account, record.name))

    async def rotate_key(self, account: Account, name: str) -> DomainView:
        """Add a new RSA key with a new selector; the current key keeps signing until the new
        record verifies (:meth:`verify`), then retires. A domain has at most one pending RSA
        key: while one waits for its record, rotating again changes nothing and answers the
        same view (so keys, and the TXT lookups of each verify, cannot pile up).
        Raises NotFoundError, KeyGenerationLimitError."""
        record = await self._get(account, name)
        if any(
            key.status is KeyStatus.PENDING and key.key_type == KeyType.RSA.value
            for key in record.keys
        ):
            return self._view(record)
        key = await self._rsa_keys.generate(account.id)
        await self._domains.add_key(record.id, self._new_key(record.name, key))
        return self._view(await self._get(account, record.name))

    async def recheck_due(self) -> int:
        """Verify again the domains not checked for :data:`RECHECK_INTERVAL` (periodic
        housekeeping); returns how many were checked."""
        due = await self._domains.due_for_check(self._clock.now() - RECHECK_INTERVAL, RECHECK_BATCH)
        for account_id, name in due:
            await self.verify(Account(id=account_id, name="", created_at=self._clock.now()), name)
        return len(due)

    async def _get(self, account: Account, name: str) -> DomainRecord:
        domain = normalize_domain(name)
        record = await self._domains.get(account.id, domain)
        if record is None:
            raise NotFoundError(f"no domain {domain}")
        return record

    def _new_key(self, domain: str, key: SigningKey) -> NewDkimKey:
        selector = dated_selector(self._clock.now().date(), self._random_bytes)
        sealed = seal_private_key(
            self._master, domain, selector, key.private_pem(), self._random_bytes
        )
        return NewDkimKey(
            selector=selector,
            key_type=key.key_type.value,
            sealed_key=sealed,
            key_record=key.txt_record(),
        )

    def _view(self, record: DomainRecord) -> DomainView:
        specs, _ = _specs_for(record, self._delivery)
        signing = _signing_key(record)
        return DomainView(
            name=record.name,
            status=DomainStatus(record.status),
            records=views_from_results(specs, record.check_results),
            verified_at=record.verified_at,
            last_checked_at=record.last_checked_at,
            selector=signing.selector if signing else "",
            created_at=record.created_at,
            dmarc_policy=record.dmarc_policy,
            unsubscribe_default=record.unsubscribe_default,
        )


def _signing_key(record: DomainRecord) -> DkimKeyRecord | None:
    """The RSA key that signs (or, before any did, the newest pending one)."""
    rsa = [
        k
        for k in record.keys
        if k.key_type == KeyType.RSA.value and k.status is not KeyStatus.RETIRED
    ]
    active = [k for k in rsa if k.status is KeyStatus.ACTIVE]
    candidates = active or rsa
    return candidates[-1] if candidates else None


def _live_keys(record: DomainRecord) -> list[DkimKeyRecord]:
    return [k for k in record.keys if k.status is not KeyStatus.RETIRED]


def _dkim_spec(domain: str, key: DkimKeyRecord | NewDkimKey) -> DnsRecordSpec:
    return DnsRecordSpec(
        RecordPurpose.DKIM,
        RecordKind.TXT,
        record_name(key.selector, domain),
        key.key_record,
        split_txt(key.key_record),
        is_required=True,
    )


def _specs(
    domain: str,
    keys: Sequence[DkimKeyRecord],
    delivery: DeliverySettings,
    *,
    pending: Sequence[NewDkimKey] = (),
) -> tuple[DnsRecordSpec, ...]:
    """Every record to publish: one DKIM record per live key, then SPF, MX, DMARC."""
    # RSA first (the key every receiver checks), then by age within a type.
    all_keys: list[DkimKeyRecord | NewDkimKey] = sorted(
        [*keys, *pending], key=lambda key: key.key_type != KeyType.RSA.value
    )
    first = all_keys[0]
    base = required_records(domain, first.selector, first.key_record, delivery)
    dkim = [_dkim_spec(domain, key) for key in all_keys]
    return (*dkim, *(spec for spec in base if spec.purpose is not RecordPurpose.DKIM))


def _specs_for(
    record: DomainRecord, delivery: DeliverySettings
) -> tuple[tuple[DnsRecordSpec, ...], list[tuple[DkimKeyRecord, DnsRecordSpec]]]:
    keys = _live_keys(record)
    specs = _specs(record.name, keys, delivery)
    return specs, [(key, _dkim_spec(record.name, key)) for key in keys]


def _signing_after(
    record: DomainRecord,
    activate: tuple[str, ...],
    status_by_spec: dict[tuple[RecordPurpose, str], CheckStatus],
    key_specs: Sequence[tuple[DkimKeyRecord, DnsRecordSpec]],
) -> bool:
    """True when, after this check, an RSA key will sign whose record verified."""
    return any(
        key.key_type == KeyType.RSA.value
        and (key.status is KeyStatus.ACTIVE or key.id in activate)
        and status_by_spec.get((spec.purpose, spec.name)) is CheckStatus.VERIFIED
        for key, spec in key_specs
    )


def _only_dns_errors(
    checks: Sequence[RecordCheck], key_specs: Sequence[tuple[DkimKeyRecord, DnsRecordSpec]]
) -> bool:
    """True when what keeps the domain from verifying is lookups that failed: SPF, or the
    record of a key that signs now (a pending key's missing record is no reason either way)."""
    signing = {spec.name for key, spec in key_specs if key.status is KeyStatus.ACTIVE}
    failed = [
        c
        for c in checks
        if (c.spec.purpose is RecordPurpose.SPF or c.spec.name in signing)
        and c.status is not CheckStatus.VERIFIED
    ]
    return bool(failed) and all(c.status is CheckStatus.DNS_ERROR for c in failed)


def _domain_event(
    name: str, before: str, after: DomainStatus, checks: Sequence[RecordCheck]
) -> tuple[EventType, dict[str, Any]] | None:
    """``domain.verified`` when a domain becomes verified; ``domain.dns_failed`` each time a
    check leaves it failed (with what is wrong, record by record); None otherwise."""
    if after is DomainStatus.VERIFIED and before != DomainStatus.VERIFIED.value:
        return EventType.DOMAIN_VERIFIED, {"domain": name, "status": after.value}
    if after is DomainStatus.FAILED:
        problems = [
            {
                "purpose": c.spec.purpose.value,
                "name": c.spec.name,
                "status": c.status.value,
                "problem": c.problem,
            }
            for c in checks
            if c.status is not CheckStatus.VERIFIED
        ]
        return EventType.DOMAIN_DNS_FAILED, {
            "domain": name,
            "status": after.value,
            "records": problems,
        }
    return None
