"""DKIM signers per (account, sender domain), opened from the sealed keys and kept in memory.

Opening a key costs an AES-GCM decryption and a PEM parse; a busy sender must not pay it per
message. The cache maps (account, domain) to the signers of the active key(s) and the domain's
one-click unsubscribe default; the domain service invalidates an entry whenever a domain's
keys, verification or settings change.
It must not decide whether a domain is verified (the stored state does).
"""

from __future__ import annotations

from dataclasses import dataclass

from postillon.clock import Clock
from postillon.dkim import DkimSigner, KeyType, MasterKey, load_private_key, open_private_key
from postillon.domains import normalize_domain
from postillon.domains.errors import InvalidDomainError
from postillon.services.domain_views import DomainStatus
from postillon.storage.domains_sql import SqlDomains
from postillon.storage.tenant_records import DkimKeyRecord, DomainRecord, KeyStatus

# How long a node trusts its cached signers: a domain deleted or a key rotated on another node
# stops (or starts) signing here within this time. Long enough that a busy sender opens its
# key about once a minute, not per message.
SIGNER_TTL_S = 60.0
# RSA first: verifiers without Ed25519 (RFC 8463) still find a signature they can check.
_KEY_ORDER = {KeyType.RSA.value: 0, KeyType.ED25519.value: 1}


@dataclass(frozen=True)
class _Entry:
    signers: tuple[DkimSigner, ...]
    expires_at: float
    unsubscribe_default: bool = False


class SignerCache:
    """The signers of each verified (account, domain), opened on first use."""

    def __init__(self, domains: SqlDomains, master: MasterKey, clock: Clock) -> None:
        self._domains = domains
        self._master = master
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}

    def invalidate(self, account_id: str, domain: str) -> None:
        """Forget the domain's signers (after a verification, rotation or deletion)."""
        self._entries.pop((account_id, domain), None)

    async def signers_for(self, account_id: str, domain: str) -> tuple[DkimSigner, ...] | None:
        """The signers for mail from ``domain``, or None unless it is a verified domain of the
        account with an active key. Raises SealedKeyError if a key does not open."""
        cache_key = (account_id, domain)
        entry = self._entries.get(cache_key)
        now = self._clock.monotonic()
        if entry is not None and entry.expires_at > now:
            return entry.signers
        record = await self._domains.get(account_id, domain)
        signers = self._open(record) if record is not None else ()
        if record is None or not signers:
            self._entries.pop(cache_key, None)
            return None  # not cached: a verification elsewhere takes effect at once
        self._entries[cache_key] = _Entry(
            signers, now + SIGNER_TTL_S, unsubscribe_default=record.unsubscribe_default
        )
        return signers

    async def unverified_signers_for(
        self, account_id: str, domain: str
    ) -> tuple[DkimSigner, ...] | None:
        """Signers for a domain the account added but has not verified (its pending keys):
        only for mail that never leaves the machine (the sandbox). None for an unknown domain.
        Not cached: the sandbox is not a hot path."""
        record = await self._domains.get(account_id, domain)
        if record is None:
            return None
        active = [k for k in record.keys if k.status is KeyStatus.ACTIVE]
        pending = [k for k in record.keys if k.status is KeyStatus.PENDING]
        return self._signers(record, active or pending) or None

    def unsubscribe_default(self, account_id: str, domain: str) -> bool:
        """The domain's one-click unsubscribe default, as cached by :meth:`signers_for` (call
        that first; False when nothing is cached)."""
        entry = self._entries.get((account_id, domain))
        return entry is not None and entry.unsubscribe_default

    def _open(self, record: DomainRecord) -> tuple[DkimSigner, ...]:
        if record.status != DomainStatus.VERIFIED.value:
            return ()
        return self._signers(record, [k for k in record.keys if k.status is KeyStatus.ACTIVE])

    def _signers(self, record: DomainRecord, keys: list[DkimKeyRecord]) -> tuple[DkimSigner, ...]:
        active = sorted(keys, key=lambda k: _KEY_ORDER.get(k.key_type, len(_KEY_ORDER)))
        return tuple(
            DkimSigner(
                domain=record.name,
                selector=key.selector,
                key=load_private_key(
                    open_private_key(self._master, record.name, key.selector, key.sealed_key)
                ),
                clock=self._clock,
            )
            for key in active
        )

    async def hint_for(self, account_id: str, domain: str) -> str:
        """What the customer should do so that mail from ``domain`` is accepted."""
        try:
            name = normalize_domain(domain)
        except InvalidDomainError:
            return "send from an address in one of your verified domains"
        record = await self._domains.get(account_id, name)
        if record is None:
            return (
                f"add {name} as a sender domain (POST /v1/domains or `postillon domains add`), "
                "publish the DNS records it returns, then verify it"
            )
        problems = [
            f"{r['name']} ({r['status']}: {r['problem']})"
            for r in record.check_results
            if r["status"] != "verified"
        ]
        detail = f"; last check: {', '.join(problems)}" if problems else ""
        return (
            f"publish the DNS records of {name} (GET /v1/domains/{name}) and verify it "
            f"(POST /v1/domains/{name}/verify){detail}"
        )
