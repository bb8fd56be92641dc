"""The webhook machinery of one node over a store, wired as the composition root would.

Owns building the endpoint service and the dispatcher for the dispatcher tests: SSRF guard
allowing 127.0.0.200/29 (the receivers), a sender, a secret box on a fixed test master key.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

from postillon.clock import Clock
from postillon.config.settings import WebhookSettings
from postillon.storage.sql_store import SqlStore
from postillon.storage.transactions import Transactions
from postillon.storage.webhook_deliveries_sql import SqlWebhookDeliveries
from postillon.storage.webhooks_sql import SqlWebhookEndpoints
from postillon.webhooks.dispatcher import DispatcherLimits, WebhookDispatcher
from postillon.webhooks.guard import TargetGuard
from postillon.webhooks.retry import RetryPolicy
from postillon.webhooks.secret_box import SecretBox
from postillon.webhooks.sender import SystemResolver, WebhookSender
from postillon.webhooks.service import WebhookService

RECEIVER_NETWORK = "127.0.0.200/29"  # receivers on 127.0.0.200-207; MX hosts on .208/.209
TEST_MASTER_KEY = bytes(range(32))
# Short polls: run(stop) tests wait for work, never for time.
TEST_LIMITS = DispatcherLimits(poll_interval_s=0.05, drain_timeout_s=2.0)


@dataclass
class Hooks:
    """The service and a dispatcher factory over one store."""

    store: SqlStore
    clock: Clock
    endpoints: SqlWebhookEndpoints
    deliveries: SqlWebhookDeliveries
    sender: WebhookSender
    box: SecretBox
    service: WebhookService

    def dispatcher(
        self, owner: str = "node-a", policy: RetryPolicy | None = None
    ) -> WebhookDispatcher:
        """A new dispatcher (a restarted node is a new one on the same store)."""
        return WebhookDispatcher(
            store=self.store,
            deliveries=self.deliveries,
            sender=self.sender,
            box=self.box,
            clock=self.clock,
            owner=owner,
            policy=policy,
            rng=random.Random(6),
            limits=TEST_LIMITS,
        )


def build_hooks(store: SqlStore, clock: Clock) -> Hooks:
    """Wire the webhook parts over ``store`` (its engines) with ``clock``."""
    transactions = Transactions(store.engines, clock)
    guard = TargetGuard.from_settings(WebhookSettings(allow_private_networks=(RECEIVER_NETWORK,)))
    sender = WebhookSender(guard, clock=clock, connect_timeout_s=3.0, timeout_s=5.0)
    box = SecretBox(TEST_MASTER_KEY, os.urandom)
    endpoints = SqlWebhookEndpoints(transactions)
    deliveries = SqlWebhookDeliveries(transactions)
    service = WebhookService(
        endpoints=endpoints,
        deliveries=deliveries,
        guard=guard,
        resolver=SystemResolver(),
        sender=sender,
        box=box,
        clock=clock,
    )
    return Hooks(store, clock, endpoints, deliveries, sender, box, service)
