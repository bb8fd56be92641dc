"""The engine loop: claim due recipients, run attempts in parallel, record outcomes, drain.

Owns the work cycle of one node (Postfix's qmgr role, with the SMTP client in-process): claim
due recipients from the store under a lease, one job per (message, domain); run at most
``max_parallel_jobs`` attempts at once and at most ``concurrency_per_destination`` per domain;
renew the leases of running attempts; write each job's outcomes in one commit. On stop it claims
nothing more, lets running transactions finish for ``drain_timeout_s``, then cuts the rest
(their leases run out and they are due again: at-least-once, never lost).

Must not speak SMTP (attempt.py does) nor decide outcomes (queue/ does).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from postillon.clock import Clock
from postillon.config.settings import DeliverySettings, RetrySettings
from postillon.delivery.fair_slots import FairSlots
from postillon.delivery.job import (
    DeliveryJob,
    FactKind,
    Hop,
    JobRecipient,
    JobRunner,
    RecipientFacts,
)
from postillon.delivery.recorder import OutcomeRecorder
from postillon.delivery.tlsrpt_session import sessions_of
from postillon.delivery.verdicts import decide
from postillon.metrics import Metrics
from postillon.storage.claims import MAX_CLAIM
from postillon.storage.limits import DestinationSlots, LocalSlots, destination_slot
from postillon.storage.protocol import Store
from postillon.storage.records import ClaimedJob, RecipientOutcome

log = structlog.get_logger("postillon.delivery")

# Jobs a node holds (running or waiting for a slot, having sent nothing) per SMTP slot: enough
# that a freed slot always finds a job waiting and a message's recipients in one domain usually
# come in one claim, few enough that a node does not hoard what others could deliver and keeps
# claiming while busy, so mail of another account (or transactional mail) enqueued now is
# claimed within a few finished jobs and then goes ahead of the held backlog in the fair slots
# (fair_slots.py). A claim's limit counts recipients, so its jobs never exceed the room.
HELD_PER_SLOT = 4
# A busy node claims again once this share of the slots' worth of jobs has finished: one claim
# per few finished jobs, not per job (each claim is a write transaction).
CLAIM_AGAIN_FRACTION = 0.25
# A job does not start its session when less than this share of the lease is left: the
# session and its commit must fit before another node may claim the recipients.
LEASE_SAFETY_FRACTION = 0.25


class Engine:
    """One node's delivery loop over a shared :class:`Store`."""

    def __init__(
        self,
        *,
        store: Store,
        attempt: JobRunner,
        delivery: DeliverySettings,
        retry: RetrySettings,
        clock: Clock,
        owner: str,
        rng: random.Random | None = None,
        destinations: DestinationSlots | None = None,
        count_tls_sessions: bool = True,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._store = store
        # TLS reporting (RFC 8460): count each job's sessions with its outcome ([tlsrpt]).
        self._count_tls_sessions = count_tls_sessions
        self._attempt = attempt
        self._delivery = delivery
        self._retry = retry
        self._clock = clock
        self.owner = owner
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[None], ClaimedJob] = {}
        # Attempts running at once; claimed jobs beyond it wait (under a renewed lease) and
        # have sent nothing, so a crash can duplicate only what holds a slot.
        # Slots are handed out by account in turns, transactional first (fair_slots.py).
        self._slots = FairSlots(delivery.max_parallel_jobs)
        self._unrecorded = asyncio.Semaphore(delivery.max_parallel_jobs)
        self._per_domain: dict[str, FairSlots] = defaultdict(
            lambda: FairSlots(delivery.concurrency_per_destination)
        )
        self._held_max = delivery.max_parallel_jobs * HELD_PER_SLOT
        self._claim_room = max(1, int(delivery.max_parallel_jobs * CLAIM_AGAIN_FRACTION))
        self.recorder = OutcomeRecorder(store, owner)
        # Per-destination limits shared by every node (PostgreSQL advisory locks), on top of
        # this node's own per-domain semaphore; always granted on a single SQLite node.
        self._destinations = destinations or LocalSlots()
        # When each running job's lease was last extended to (the renewer updates it).
        self._leased_until: dict[tuple[str, str], datetime] = {}
        self.skipped_expired = 0
        self.jobs_done = 0

    def wake(self) -> None:
        """Look for due mail now (the store's ``due`` signal after an enqueue, retry-now or
        cancel on this node; PostgreSQL's NOTIFY from other nodes)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then drain."""
        renewer = asyncio.create_task(self._renew_leases(stop), name="lease-renewer")
        try:
            while not stop.is_set():
                # Cleared before the claim, not after: a wake-up that comes while the claim
                # runs (an enqueue committed behind it) must not be lost until the next poll.
                self._wake.clear()
                claimed = await self._claim()
                if not claimed:
                    await self._idle(stop)
        finally:
            renewer.cancel()
            await self._drain()
            await self.recorder.close()

    async def run_until_idle(self, *, max_rounds: int = 1000) -> None:
        """Deliver whatever is due now and wait for it (tests and one-shot runs)."""
        for _ in range(max_rounds):
            claimed = await self._claim()
            if not claimed and not self._running:
                return
            if self._running:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)

    async def _claim(self) -> int:
        room = self._held_max - len(self._running)
        if room < self._claim_room:
            return 0
        limit = min(room, MAX_CLAIM)
        jobs = await self._store.claim_due(
            self.owner, self._clock.now(), self._delivery.lease_s, limit=limit
        )
        for job in jobs:
            task = asyncio.create_task(self._deliver(job), name=f"job-{job.message_id}")
            self._running[task] = job
            task.add_done_callback(self._running.pop)
        return len(jobs)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Sleep until woken, a job finishes (capacity is back), stopped, or the poll interval."""
        waiters: set[asyncio.Future[Any]] = {
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
        }
        waiters.update(self._running)
        done, pending = await asyncio.wait(
            waiters,
            timeout=self._delivery.poll_interval_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        for fut in pending:
            if fut not in self._running:
                fut.cancel()
        del done

    async def _deliver(self, claimed: ClaimedJob) -> None:
        job = DeliveryJob(
            message_id=claimed.message_id,
            mail_from=claimed.mail_from,
            domain=claimed.domain,
            recipients=tuple(JobRecipient(r.id, r.address) for r in claimed.recipients),
            body=claimed.body,
        )
        # A job holds an SMTP slot for its attempt, then a record slot until its outcome is
        # committed (taken before the SMTP slot is given back). So at most max_parallel_jobs
        # sessions run and at most as many finished jobs await their commit: a crash can
        # duplicate only those (the remote 250 came, our record of it did not).
        key = (claimed.message_id, claimed.domain)
        self._leased_until[key] = claimed.lease_until
        try:
            # The SMTP slot and the destination's shared slot are taken together, never one
            # while waiting for the other (see destination_slot).
            turn = (claimed.account_id, claimed.stream_rank)
            async with (
                self._per_domain[claimed.domain].held(*turn),
                destination_slot(
                    self._destinations,
                    claimed.domain,
                    self._delivery.concurrency_per_destination,
                    local=self._slots.ticket(*turn),
                ),
            ):
                if not self._lease_holds(key):
                    # Waited past our lease: another node may own these recipients now.
                    self.skipped_expired += 1
                    log.warning("job.lease_lost", message_id=job.message_id)
                    return
                started_at = self._clock.now()
                try:
                    facts = await self._attempt.run(job)
                except Exception as error:  # a bug must not kill the loop: defer and log
                    log.exception("attempt.crashed", message_id=job.message_id)
                    facts = [_internal_failure(r, error) for r in job.recipients]
                await self._unrecorded.acquire()
        finally:
            self._leased_until.pop(key, None)
        try:
            outcomes = self._decide(claimed, facts, started_at)
            await self.recorder.record(outcomes)
        except Exception:
            # The lease runs out and the recipients are tried again: a duplicate at worst (the
            # window docs/contracts.md allows, "Duplicates": between the remote 250 and our
            # record of it).
            log.exception("record.failed", message_id=job.message_id)
            return
        finally:
            self._unrecorded.release()
        self.jobs_done += 1
        for outcome in outcomes:
            self._observe(outcome)
            log.info(
                "delivery.outcome",
                message_id=job.message_id,
                recipient_id=outcome.recipient_id,
                status=outcome.status.value,
                mx=outcome.attempt.mx_host if outcome.attempt else None,
                reply=outcome.attempt.reply_code if outcome.attempt else None,
            )

    def _observe(self, outcome: RecipientOutcome) -> None:
        record = outcome.attempt
        if self._metrics is None or record is None:
            return
        self._metrics.attempt(
            outcome=outcome.status.value,
            bounce_class=outcome.bounce_class.value if outcome.bounce_class else None,
            tls_used=record.tls_used,
            tls_verified=bool(record.tls_verified),
            mta_sts_mode=record.mta_sts_mode,
            duration_s=record.duration_ms / 1000,
        )

    def _lease_holds(self, key: tuple[str, str]) -> bool:
        until = self._leased_until.get(key)
        margin = timedelta(seconds=self._delivery.lease_s * LEASE_SAFETY_FRACTION)
        return until is not None and self._clock.now() < until - margin

    def _decide(
        self, claimed: ClaimedJob, facts: list[RecipientFacts], started_at: datetime
    ) -> list[RecipientOutcome]:
        attempts = {r.id: r.attempts for r in claimed.recipients}
        now = self._clock.now()
        outcomes = [
            decide(
                fact,
                previous_attempts=attempts[fact.recipient.recipient_id],
                created_at=claimed.lifetime_start,
                started_at=started_at,
                now=now,
                retry=self._retry,
                random=self._rng.random,
            )
            for fact in facts
        ]
        # TLS reporting counts the session once, with the first recipient's record.
        sessions = sessions_of(claimed.domain, facts, started_at)
        if outcomes and sessions and self._count_tls_sessions:
            outcomes[0] = replace(outcomes[0], tlsrpt=sessions)
        return outcomes

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        interval = self._delivery.lease_s / 3
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stop.wait()
            jobs = list(self._running.values())
            ids = [r.id for job in jobs for r in job.recipients]
            if ids:
                now = self._clock.now()
                try:
                    await self._store.renew_lease(self.owner, ids, now, self._delivery.lease_s)
                except Exception:
                    log.exception("lease.renew_failed", count=len(ids))
                    continue
                until = now + timedelta(seconds=self._delivery.lease_s)
                for job in jobs:
                    key = (job.message_id, job.domain)
                    if key in self._leased_until:
                        self._leased_until[key] = until

    async def _drain(self) -> None:
        if not self._running:
            return
        log.info("engine.draining", jobs=len(self._running))
        _, pending = await asyncio.wait(self._running, timeout=self._delivery.drain_timeout_s)
        cut = [
            r.id
            for task in pending
            if task in self._running
            for r in self._running[task].recipients
        ]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if cut:
            with contextlib.suppress(Exception):
                await self._store.release_lease(self.owner, cut)
            log.warning("engine.drain_cut", recipients=len(cut))


def _internal_failure(recipient: JobRecipient, error: Exception) -> RecipientFacts:
    return RecipientFacts(
        recipient=recipient,
        kind=FactKind.PROTOCOL,
        is_transient=True,
        code=None,
        enhanced="4.3.0",
        text=f"internal error: {type(error).__name__}",
        hop=Hop(),
        duration_ms=0,
    )
