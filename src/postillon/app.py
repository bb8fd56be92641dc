"""The composition root: settings in, a running node out.

Builds, in dependency order, what one postillon node runs: the store (migrated), the resolver
and MX router, the MTA-STS policy cache, the connection pool, the attempt and the engine, plus
the housekeeping tasks (idle connections, policy refresh). Nothing else constructs these; the
CLI and the tests start a :class:`Node` and stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

from postillon.api import ApiServer, create_app
from postillon.api.operations import Operations, install_operations, metrics_app
from postillon.clock import Clock, SystemClock
from postillon.config.settings import Settings
from postillon.dashboard import create_dashboard
from postillon.delivery.attempt import Attempt, DeliveryConnection
from postillon.delivery.dial import smtp_dialer, source_address_picker
from postillon.delivery.engine import Engine
from postillon.delivery.pool import ConnectionPool
from postillon.delivery.sandbox import SandboxRouting
from postillon.dkim import MasterKey
from postillon.dns.destinations import DestinationFilter
from postillon.dns.mx import LocalIdentity
from postillon.dns.resolver import Resolver
from postillon.dns.router import MxRouter
from postillon.inbound import build_inbound_listener
from postillon.metrics import Metrics
from postillon.policy.cache import PolicyCache
from postillon.policy.fetch import PolicyFetcher
from postillon.roles import Role
from postillon.services.container import Services, load_master_key
from postillon.services.rate_limit import RateLimit, RateLimiter
from postillon.services.tlsrpt import TlsRptReporter, build_reporter
from postillon.storage.health_sql import queue_gauges, schema_problem
from postillon.storage.limits import create_slots
from postillon.storage.notify import create_listener
from postillon.storage.policy_sql import SqlPolicyStore
from postillon.storage.sql_store import SqlStore
from postillon.storage.transactions import Transactions
from postillon.storage.webhook_deliveries_sql import SqlWebhookDeliveries
from postillon.storage.webhooks_sql import SqlWebhookEndpoints
from postillon.submission import SubmissionServer
from postillon.webhooks.dispatcher import WebhookDispatcher
from postillon.webhooks.guard import TargetGuard
from postillon.webhooks.secret_box import SecretBox
from postillon.webhooks.sender import SystemResolver, WebhookSender
from postillon.webhooks.service import WebhookService

log = structlog.get_logger("postillon.app")

# Housekeeping periods: closing idle connections (well under any server's idle timeout, RFC
# 5321 §4.5.3.2.7 lets servers cut at 5 minutes) and renewing MTA-STS policies before expiry.
POOL_SWEEP_S = 5.0
POLICY_REFRESH_S = 300.0
# On stop, reports being received get this long to be committed (a cut one is resent: its
# sender never saw our 250).
INBOUND_GRACE_S = 5.0
# Sender domains due a DNS re-check, and idempotency keys past their 24 hours, looked at hourly.
DOMAIN_RECHECK_S = 3600.0


def node_owner() -> str:
    """A lease owner name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Node:
    """One postillon node: the delivery engine and what it needs, over one store."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, role: Role = Role.ALL
    ) -> None:
        self.settings = settings
        self.role = role
        self.clock = clock or SystemClock()
        ensure_sqlite_dir(settings.storage.url)
        self.store = SqlStore.from_url(settings.storage.url, self.clock)
        master_key = load_master_key(settings.dkim, settings.master_key_path)
        self.services = Services.build(
            settings, self.store, None, self.clock, master_key=master_key
        )
        self.resolver = Resolver(settings.dns, self.clock)
        self.router = MxRouter(
            self.resolver,
            LocalIdentity.from_settings(settings.delivery),
            random.Random(),
            DestinationFilter.from_settings(settings.delivery),
        )
        self.fetcher: PolicyFetcher | None = None
        self.policies: PolicyCache | None = None
        if settings.mta_sts.enabled:
            self.fetcher = PolicyFetcher(self.resolver, settings=settings.mta_sts, tls=settings.tls)
            self.policies = PolicyCache(
                txt=self.resolver,
                source=self.fetcher,
                store=SqlPolicyStore(self.store.engines),
                clock=self.clock,
            )
        self.pool: ConnectionPool[DeliveryConnection] = ConnectionPool(
            clock=self.clock,
            max_messages=settings.delivery.max_messages_per_connection,
            idle_s=settings.delivery.connection_idle_s,
        )
        self.attempt = Attempt(
            router=self.router,
            policies=self.policies,
            pool=self.pool,
            dialer=smtp_dialer(settings, self.clock),
            clock=self.clock,
            max_rcpts=settings.delivery.max_rcpts_per_transaction,
            source_address=source_address_picker(settings),
            # DANE needs validated answers: only with [dns] dnssec (a trusted validating resolver).
            tlsa=self.resolver if settings.dns.dnssec else None,
        )
        owner = node_owner()
        self.metrics = Metrics()
        self.tlsrpt: TlsRptReporter | None = None
        if settings.tlsrpt.enabled:
            self.tlsrpt = build_reporter(
                settings,
                store=self.store,
                engines=self.store.engines,
                master=master_key,
                txt=self.resolver,
                clock=self.clock,
                owner=owner,
            )
        self.destinations = create_slots(settings.storage.url)
        self.engine = Engine(
            store=self.store,
            attempt=SandboxRouting(domain=settings.sandbox.domain, real=self.attempt),
            delivery=settings.delivery,
            retry=settings.retry,
            clock=self.clock,
            owner=owner,
            destinations=self.destinations,
            metrics=self.metrics,
            count_tls_sessions=settings.tlsrpt.enabled,
        )
        # Mail accepted, retried or cancelled on this node is looked at by its engine at once.
        self.store.engines.due.subscribe(self.engine.wake)
        self._engine_task: asyncio.Task[None] | None = None
        self.services.sending.on_accepted = self._accepted
        self._build_webhooks(settings, master_key, owner)
        # One set of per-key buckets: the API and SMTP submission charge the same limit.
        self.limiter = RateLimiter(
            RateLimit(settings.api.rate_per_s, settings.api.rate_burst), self.clock
        )
        self.api_app = create_app(
            self.services,
            settings,
            clock=self.clock,
            webhooks=self.webhooks,
            limiter=self.limiter,
        )
        self.api_app.mount(
            "/dashboard",
            create_dashboard(
                self.services,
                self.store,
                self.clock,
                webhooks=self.webhooks,
                settings=settings.dashboard,
            ),
        )
        own_listener = bool(settings.metrics.listen)
        install_operations(
            self.api_app,
            Operations(
                readiness=self.readiness, metrics=None if own_listener else self.render_metrics
            ),
        )
        self.api = ApiServer(self.api_app, settings)
        self.submission = SubmissionServer(
            settings, self.services, self.limiter, self.clock, enabled=role.runs_api
        )
        self.metrics_server: ApiServer | None = None
        if own_listener:
            listen = settings.api.model_copy(update={"listen": settings.metrics.listen})
            self.metrics_server = ApiServer(
                metrics_app(self.render_metrics), settings.model_copy(update={"api": listen})
            )
        # The return path's SMTP listener ([inbound] listen), run by the api and all roles.
        self.inbound = build_inbound_listener(settings, self.services.return_path)

    def _accepted(self, count: int) -> None:
        """Count accepted messages and wake this node's engine (SQLite has no NOTIFY)."""
        self.metrics.accepted.inc(count)
        self.engine.wake()

    async def readiness(self) -> list[str]:
        """What keeps this node from being ready (empty: ready): the store must answer with
        every migration applied, and a node that delivers must have its loop running."""
        problems = []
        schema = await schema_problem(self.store.engines)
        if schema is not None:
            problems.append(schema)
        if self.role.runs_delivery and (self._engine_task is None or self._engine_task.done()):
            problems.append("the delivery loop is not running")
        return problems

    async def render_metrics(self) -> bytes:
        """The Prometheus text, with the queue gauges read from the store now."""
        return await self.metrics.render(lambda: queue_gauges(self.store.engines, self.clock.now()))

    def _build_webhooks(self, settings: Settings, master_key: MasterKey, owner: str) -> None:
        transactions = Transactions(self.store.engines, self.clock)
        guard = TargetGuard.from_settings(settings.webhooks)
        sender = WebhookSender(guard, clock=self.clock)
        box = SecretBox(master_key.material, os.urandom)
        deliveries = SqlWebhookDeliveries(transactions)
        self.dispatcher = WebhookDispatcher(
            store=self.store,
            deliveries=deliveries,
            sender=sender,
            box=box,
            clock=self.clock,
            owner=owner,
        )
        self.webhooks = WebhookService(
            endpoints=SqlWebhookEndpoints(transactions),
            deliveries=deliveries,
            guard=guard,
            resolver=SystemResolver(),
            sender=sender,
            box=box,
            clock=self.clock,
            wake_dispatcher=self.dispatcher.wake,
        )

    def reload_tls(self) -> None:
        """Re-read TLS certificates (SIGHUP): the submission listeners' and the inbound one's."""
        self.submission.reload_tls()
        if self.inbound is not None:
            self.inbound.reload_tls()

    async def migrate(self) -> None:
        """Bring the database schema up to date."""
        await self.store.migrate()

    async def run(self, stop: asyncio.Event) -> None:
        """Serve this node's role until ``stop`` is set; then drain and close everything.

        ``api`` serves HTTP only; ``worker`` delivers mail and webhooks only; ``all`` does both.
        Every role migrates the schema first (idempotent; PostgreSQL serialises it).
        """
        await self.migrate()
        housekeeping = [
            asyncio.create_task(_every(POOL_SWEEP_S, self.pool.expire_idle, stop)),
            asyncio.create_task(_every(DOMAIN_RECHECK_S, self.services.domains.recheck_due, stop)),
            asyncio.create_task(
                _every(DOMAIN_RECHECK_S, self.services.sending.forget_expired_keys, stop)
            ),
        ]
        if self.policies is not None and self.role.runs_delivery:
            housekeeping.append(
                asyncio.create_task(_every(POLICY_REFRESH_S, self.policies.refresh_due, stop))
            )
        if self.tlsrpt is not None and self.role.runs_delivery:
            interval = self.settings.tlsrpt.check_interval_s
            housekeeping.append(asyncio.create_task(_every(interval, self.tlsrpt.run_once, stop)))
        if self.role.runs_api:
            await self.api.start()  # a listen address that cannot be bound stops startup here
            try:
                await self.submission.start()
                if self.inbound is not None:
                    await self.inbound.start()
            except BaseException:
                await self.submission.close()
                await self.api.stop()
                raise
        if self.metrics_server is not None:
            await self.metrics_server.start()
        listener = create_listener(self.settings.storage.url, on_notify=self.engine.wake)
        log.info(
            "node.started",
            role=self.role.value,
            owner=self.engine.owner,
            storage=self.settings.storage.redacted_url(),
            api=self.settings.api.listen if self.role.runs_api else None,
            inbound=self.inbound.sockets if self.inbound and self.role.runs_api else None,
        )
        dispatcher: asyncio.Task[None] | None = None
        try:
            if self.role.runs_delivery:
                await listener.start()  # PostgreSQL: NOTIFY on enqueue wakes this node
                dispatcher = asyncio.create_task(
                    self.dispatcher.run(stop), name="webhook-dispatcher"
                )
                self._engine_task = asyncio.create_task(self.engine.run(stop), name="engine")
                await self._engine_task
            else:
                await stop.wait()
        finally:
            if self.role.runs_api:
                await self.submission.close()  # sessions mid-commit get a few seconds
                if self.inbound is not None:
                    await self.inbound.close(grace_s=INBOUND_GRACE_S)
                await self.api.stop()  # no new requests; those in flight get a few seconds
            if self.metrics_server is not None:
                await self.metrics_server.stop()
            if dispatcher is not None:
                await dispatcher  # it drains on the same stop
            await listener.close()
            for task in housekeeping:
                task.cancel()
            await asyncio.gather(*housekeeping, return_exceptions=True)
            await self.close()
            log.info("node.stopped", owner=self.engine.owner)

    async def close(self) -> None:
        """Close connections, the policy machinery and the store."""
        await self.pool.close_all()
        if self.policies is not None:
            await self.policies.aclose()
        if self.fetcher is not None:
            await self.fetcher.aclose()
        await self.destinations.close()
        await self.services.close()
        await self.store.close()


async def _every(
    period_s: float, work: Callable[[], Awaitable[object]], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(period_s):
                await stop.wait()
        try:
            await work()
        except Exception:
            log.exception("housekeeping.failed", work=getattr(work, "__qualname__", "?"))


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite ``url``; None for another backend or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database)
    return None


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite database file, so a fresh machine can start at once."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
