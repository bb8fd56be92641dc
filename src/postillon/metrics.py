"""Prometheus metrics of one node: the instruments, and the text a scrape gets.

Counters and histograms are updated where things happen (the engine per recorded outcome, the
sending service per accepted message); gauges that describe the shared queue (depth, oldest
age, webhook backlog) are read from the store when scraped, by a callback the composition root
gives. One :class:`Metrics` per node, on its own registry (tests run several nodes in one
process). Share of TLS or verified TLS is a PromQL ratio of the attempt counters.
Must not decide anything nor do I/O itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "Metrics", "QueueGauges"]

# Attempt durations, seconds: from a sandbox reply (~0) through a slow MX to RFC 5321's
# 10-minute final-dot timeout.
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0)


@dataclass(frozen=True)
class QueueGauges:
    """The shared queue as the store sees it at scrape time."""

    waiting: int  # recipients queued or deferred
    oldest_age_s: float  # age of the oldest waiting recipient's message; 0 when none
    webhook_backlog: int  # webhook deliveries not yet delivered or given up


class Metrics:
    """The node's instruments on one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "postillon_deliveries",
            "Recipient outcomes recorded, by status and bounce class.",
            ["outcome", "bounce_class"],
            registry=self.registry,
        )
        self.attempt_tls = Counter(
            "postillon_attempt_tls",
            "Attempts by the TLS they used: none, unverified or verified.",
            ["tls"],
            registry=self.registry,
        )
        self.attempt_mta_sts = Counter(
            "postillon_attempt_mta_sts",
            "Attempts by the MTA-STS mode in force: none, testing or enforce.",
            ["mode"],
            registry=self.registry,
        )
        self.attempt_seconds = Histogram(
            "postillon_attempt_duration_seconds",
            "Time from the start of an attempt to its outcome, per recipient.",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.accepted = Counter(
            "postillon_messages_accepted",
            "Messages accepted (committed to the queue) by the sending service.",
            registry=self.registry,
        )
        self.queue_waiting = Gauge(
            "postillon_queue_waiting_recipients",
            "Recipients queued or deferred.",
            registry=self.registry,
        )
        self.queue_oldest = Gauge(
            "postillon_queue_oldest_age_seconds",
            "Age of the oldest message with a waiting recipient.",
            registry=self.registry,
        )
        self.webhook_backlog = Gauge(
            "postillon_webhook_backlog",
            "Webhook deliveries pending (not delivered, not given up).",
            registry=self.registry,
        )

    def attempt(
        self,
        *,
        outcome: str,
        bounce_class: str | None,
        tls_used: bool,
        tls_verified: bool,
        mta_sts_mode: str | None,
        duration_s: float,
    ) -> None:
        """Count one recorded recipient outcome with its attempt."""
        self.deliveries.labels(outcome, bounce_class or "").inc()
        tls = "verified" if tls_verified else "unverified" if tls_used else "none"
        self.attempt_tls.labels(tls).inc()
        self.attempt_mta_sts.labels(mta_sts_mode or "none").inc()
        self.attempt_seconds.labels(outcome).observe(duration_s)

    async def render(self, read_queue: Callable[[], Awaitable[QueueGauges]] | None) -> bytes:
        """The exposition text, with the queue gauges read just now when ``read_queue``."""
        if read_queue is not None:
            gauges = await read_queue()
            self.queue_waiting.set(gauges.waiting)
            self.queue_oldest.set(gauges.oldest_age_s)
            self.webhook_backlog.set(gauges.webhook_backlog)
        return generate_latest(self.registry)
