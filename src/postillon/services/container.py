"""The services of one node, built once by the composition root (app.py).

``Services.build(settings, store, resolver, clock)`` opens the tenant tables on the configured
database (sharing the Store's engines), loads or creates the DKIM master key, and
wires :class:`ApiKeyService`, :class:`DomainService`, :class:`SendService`,
:class:`SuppressionService`, :class:`DashboardUserService`, :class:`ReturnPathService`,
:class:`UnsubscribeService` and :class:`StatsService`.
It must not start tasks (the composition root schedules :meth:`DomainService.recheck_due`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from postillon.clock import Clock
from postillon.config.settings import DkimSettings, Settings
from postillon.dkim import MasterKey
from postillon.dkim.master_key import load_or_create_master_key, master_key_from_text
from postillon.dns.resolver import Resolver
from postillon.domains import DnsLookup, TagKey
from postillon.services.domains import DomainService
from postillon.services.keys import ApiKeyService
from postillon.services.return_path import ReturnPathService
from postillon.services.sending import SendService
from postillon.services.signers import SignerCache
from postillon.services.stats import StatsService
from postillon.services.suppressions import SuppressionService
from postillon.services.unsubscribe import UnsubscribeService
from postillon.services.unsubscribe_token import UnsubscribeTokens
from postillon.services.users import DashboardUserService
from postillon.storage.api_keys_sql import SqlApiKeys
from postillon.storage.connect import Engines, create_engines
from postillon.storage.dashboard_users_sql import SqlDashboardUsers
from postillon.storage.domains_sql import SqlDomains
from postillon.storage.idempotency_sql import SqlIngest
from postillon.storage.protocol import Store
from postillon.storage.reports_sql import SqlReports
from postillon.storage.stats_sql import SqlStats
from postillon.storage.suppressions_sql import SqlSuppressions
from postillon.storage.tls_stats_sql import SqlTlsStats
from postillon.storage.transactions import Transactions
from postillon.storage.unsubscribes_sql import SqlUnsubscribes


def load_master_key(dkim: DkimSettings, key_file: Path) -> MasterKey:
    """``[dkim] master_key`` if set, else ``key_file`` (``Settings.master_key_path``; created
    0600 with a new key if absent, its folder too). Raises MasterKeyError (a ConfigError) when
    malformed."""
    if dkim.master_key is not None:
        return master_key_from_text(dkim.master_key.get_secret_value(), "dkim.master_key")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    return load_or_create_master_key(key_file)


@dataclass(frozen=True)
class Services:
    """Every use case the edges call."""

    keys: ApiKeyService
    domains: DomainService
    sending: SendService
    suppressions: SuppressionService
    users: DashboardUserService
    engines: Engines
    return_path: ReturnPathService
    unsubscribe: UnsubscribeService
    stats: StatsService
    owns_engines: bool = True

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        resolver: DnsLookup | None,
        clock: Clock,
        *,
        master_key: MasterKey | None = None,
    ) -> Services:
        """Wire the services over ``store`` (accounts, messages) and new engines on
        ``settings.storage.url`` (keys, domains, idempotency). ``resolver`` answers the
        domain checks; None builds one on ``[dns]`` without a cache, so a record the customer
        just published is seen at once (not a negative answer cached from the check before).
        ``master_key`` overrides the configured one (tests)."""
        shared = getattr(store, "engines", None)
        # Share the Store's engines when it has them: on SQLite a second writer pool on the
        # same file would only contend for the write lock.
        engines = shared if isinstance(shared, Engines) else create_engines(settings.storage.url)
        transactions = Transactions(engines, clock)
        master = master_key or load_master_key(settings.dkim, settings.master_key_path)
        domain_rows = SqlDomains(transactions)
        lookup = resolver or Resolver(
            settings.dns.model_copy(update={"cache_max_entries": 0}), clock
        )
        signers = SignerCache(domain_rows, master, clock)
        tag_key = TagKey.derive(master.material)
        unsubscribe = UnsubscribeService(
            SqlUnsubscribes(transactions), UnsubscribeTokens.derive(master.material)
        )
        return cls(
            keys=ApiKeyService(store, SqlApiKeys(transactions), clock),
            domains=DomainService(
                domains=domain_rows,
                signers=signers,
                lookup=lookup,
                master=master,
                delivery=settings.delivery,
                dkim=settings.dkim,
                clock=clock,
            ),
            sending=SendService(
                store=store,
                ingest=SqlIngest(transactions),
                signers=signers,
                api=settings.api,
                clock=clock,
                sandbox_domain=settings.sandbox.domain,
                return_path_key=tag_key,
                unsubscribe=unsubscribe,
            ),
            suppressions=SuppressionService(store, SqlSuppressions(transactions)),
            users=DashboardUserService(SqlDashboardUsers(transactions), clock),
            engines=engines,
            return_path=ReturnPathService(SqlReports(transactions), tag_key, unsubscribe),
            unsubscribe=unsubscribe,
            stats=StatsService(SqlStats(transactions), SqlTlsStats(transactions)),
            owns_engines=engines is not shared,
        )

    async def close(self) -> None:
        """Stop the signing threads and close the services' database connections (the Store
        closes its own)."""
        self.sending.close()
        if self.owns_engines:
            await self.engines.dispose()
