"""Which MTA-STS policy applies to a recipient domain now: discovery, fetch and cache.

Owns: the per-domain cache (memory first, then the :class:`PolicyStore`), and the RFC 8461 rules
for using it: a cached policy applies until it expires (max_age, never past one week); a changed
TXT id means fetching again before the next delivery (§3.1); refreshing starts at half-life
(§10.2); when DNS or the policy server fails, or the new policy is invalid, the unexpired cached
policy stays in force (§3.3), and a failed fetch is not retried for the same id for five minutes
(§3.3). Policies are keyed by recipient domain only, never by MX host, so one domain's policy
cannot leak to another sharing its MX hosts. It must not apply a policy to an MX (``decision.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

import structlog

from postillon.clock import Clock
from postillon.errors import PostillonError, TlsError
from postillon.policy.errors import PolicyFetchError
from postillon.policy.lookups import TxtLookup
from postillon.policy.model import MtaStsPolicy, NoPolicy
from postillon.policy.mx_match import is_valid_host, normalize_host
from postillon.policy.policy_text import parse_policy
from postillon.policy.record import NO_RECORD, StsRecord, parse_sts_record, record_name
from postillon.policy.store import PolicyStore

# RFC 8461 §3.3 suggests limiting fetch attempts after a failure "to a period of five minutes or
# longer per version ID": it spares a struggling policy host and keeps deliveries from waiting on
# a fetch timeout each time.
FETCH_RETRY_AFTER_S = 300.0
# Bound on domains kept in memory (a policy is a few hundred bytes); the oldest entry goes first,
# and the store still has it.
MAX_CACHED_DOMAINS = 100_000
# Domains refreshed at once by the periodic sweep: each refresh is a TXT lookup and maybe an HTTPS
# fetch; a burst of thousands would flood the resolver and our outbound sockets.
REFRESH_CONCURRENCY = 8

_log = structlog.get_logger(__name__)


class PolicySource(Protocol):
    """Fetches policy bodies (``PolicyFetcher`` in production)."""

    async def fetch(self, domain: str) -> bytes:
        """The policy body of ``domain``; raises :class:`PolicyFetchError` on failure."""
        ...


class PolicyCache:
    """The policy that applies to each recipient domain, kept fresh.

    ``policy_for`` is safe to call concurrently: callers for the same domain share one lookup.
    """

    def __init__(
        self,
        *,
        txt: TxtLookup,
        source: PolicySource,
        store: PolicyStore,
        clock: Clock,
    ) -> None:
        self._txt = txt
        self._source = source
        self._store = store
        self._clock = clock
        self._policies: dict[str, MtaStsPolicy] = {}
        # domain -> (policy id whose fetch failed, monotonic time of the failure, RFC 8460
        # result type of the failure)
        self._failures: dict[str, tuple[str, float, str]] = {}
        self._inflight: dict[str, asyncio.Task[MtaStsPolicy | None]] = {}

    async def policy_for(self, domain: str) -> MtaStsPolicy | None:
        """The policy for mail to ``domain`` right now, or None: deliver as without MTA-STS.

        A returned policy may have mode ``none`` (it still names the policy id to record). DNS
        and fetch failures never raise: they fall back to the cached policy, or to None.
        """
        name = normalize_host(domain)
        if not is_valid_host(name):
            return None
        task = self._inflight.get(name)
        if task is None:
            task = asyncio.ensure_future(self._resolve(name))
            self._inflight[name] = task
            task.add_done_callback(self._forget_inflight(name))
        # shield: one caller's cancellation must not cancel the lookup others wait for.
        return await asyncio.shield(task)

    def problem(self, domain: str) -> str | None:
        """The RFC 8460 result type of the last failed policy fetch for ``domain`` while it is
        remembered (``sts-policy-fetch-error``, ``sts-webpki-invalid``, ``sts-policy-invalid``);
        None when the last fetch worked or none failed. For TLS reporting only."""
        failure = self._failures.get(normalize_host(domain))
        return None if failure is None else failure[2]

    def _forget_inflight(self, name: str) -> Callable[[asyncio.Task[MtaStsPolicy | None]], None]:
        def forget(task: asyncio.Task[MtaStsPolicy | None]) -> None:
            if self._inflight.get(name) is task:
                del self._inflight[name]

        return forget

    async def refresh_due(self) -> int:
        """Check every cached domain whose refresh time has come; returns how many were checked.

        For a periodic task, so that policies of quiet domains are renewed before they expire.
        """
        now = self._clock.now()
        due = [d for d, p in self._policies.items() if p.is_due_refresh(now)]
        queue = iter(due)

        async def worker() -> None:
            for domain in queue:  # the workers share one iterator: each domain is checked once
                await self.policy_for(domain)

        await asyncio.gather(*(worker() for _ in range(min(REFRESH_CONCURRENCY, len(due)))))
        return len(due)

    async def aclose(self) -> None:
        """Cancel lookups still running (at shutdown)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _resolve(self, domain: str) -> MtaStsPolicy | None:
        cached = await self._cached(domain)
        try:
            answers = await self._txt.txt(record_name(domain))
        except PostillonError as exc:
            _log.warning("mta_sts.txt_lookup_failed", domain=domain, error=str(exc))
            return cached
        record = parse_sts_record(answers)
        if isinstance(record, NoPolicy):
            if record != NO_RECORD:
                _log.warning("mta_sts.invalid_record", domain=domain, reason=record.reason)
            if cached is not None:
                # §3.3: with no live record, an unexpired cached policy still applies.
                _log.info("mta_sts.cached_policy_kept", domain=domain, id=cached.id)
            return cached
        now = self._clock.now()
        if cached is not None and cached.id == record.id and not cached.is_due_refresh(now):
            return cached
        if self._recently_failed(domain, record):
            return cached
        return await self._fetch(domain, record, cached)

    async def _fetch(
        self, domain: str, record: StsRecord, cached: MtaStsPolicy | None
    ) -> MtaStsPolicy | None:
        try:
            body = await self._source.fetch(domain)
        except PolicyFetchError as exc:
            kind = "sts-webpki-invalid" if isinstance(exc, TlsError) else "sts-policy-fetch-error"
            self._note_failure(domain, record, str(exc), kind)
            return cached
        parsed = parse_policy(
            body, domain=domain, policy_id=record.id, fetched_at=self._clock.now()
        )
        if isinstance(parsed, NoPolicy):
            self._note_failure(
                domain, record, f"invalid policy: {parsed.reason}", "sts-policy-invalid"
            )
            return cached
        self._failures.pop(domain, None)
        self._remember(parsed)
        try:
            await self._store.save(parsed)
        except PostillonError as exc:
            _log.warning("mta_sts.store_save_failed", domain=domain, error=str(exc))
        _log.info("mta_sts.policy_fetched", domain=domain, id=parsed.id, mode=parsed.mode.value)
        return parsed

    async def _cached(self, domain: str) -> MtaStsPolicy | None:
        """The unexpired policy for ``domain`` from memory, else from the store."""
        policy = self._policies.get(domain)
        if policy is None:
            try:
                policy = await self._store.load(domain)
            except PostillonError as exc:
                _log.warning("mta_sts.store_load_failed", domain=domain, error=str(exc))
                policy = None
            if policy is not None and policy.domain == domain:
                self._remember(policy)
            else:
                policy = None
        if policy is not None and policy.is_expired(self._clock.now()):
            self._policies.pop(domain, None)
            _log.info("mta_sts.policy_expired", domain=domain, id=policy.id)
            return None
        return policy

    def _remember(self, policy: MtaStsPolicy) -> None:
        self._policies.pop(policy.domain, None)
        self._policies[policy.domain] = policy
        while len(self._policies) > MAX_CACHED_DOMAINS:
            del self._policies[next(iter(self._policies))]

    def _recently_failed(self, domain: str, record: StsRecord) -> bool:
        failure = self._failures.get(domain)
        if failure is None:
            return False
        failed_id, at, _ = failure
        return failed_id == record.id and self._clock.monotonic() - at < FETCH_RETRY_AFTER_S

    def _note_failure(self, domain: str, record: StsRecord, reason: str, kind: str) -> None:
        _log.warning("mta_sts.no_policy", domain=domain, id=record.id, reason=reason)
        self._failures.pop(domain, None)
        self._failures[domain] = (record.id, self._clock.monotonic(), kind)
        while len(self._failures) > MAX_CACHED_DOMAINS:
            del self._failures[next(iter(self._failures))]
