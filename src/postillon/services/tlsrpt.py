"""Sending yesterday's TLS reports (RFC 8460 §5), once per day and policy domain across nodes.

Owns one pass, :meth:`TlsRptReporter.run_once`: for every policy domain with sessions counted on
the previous UTC day, claim that day's report in the store (a sent report is never claimed again;
another node's claim is respected until it runs out), read the domain's ``_smtp._tls`` record,
and send the gzip report to each ``rua``: ``https:`` by POST through the webhook sender (the SSRF
guard vets the address, no redirects), ``mailto:`` as a DKIM-signed multipart/report queued like
any message of ``[tlsrpt] account``. A domain without a record is marked done; a report that
reached no destination is released and tried again on the next pass of the same day. It must
not count sessions (the engine does, when it records attempts) nor speak SMTP itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol
from urllib.parse import unquote, urlsplit

import structlog

from postillon.clock import Clock
from postillon.config.settings import Settings, TlsRptSettings
from postillon.dkim import MasterKey, sign_message
from postillon.errors import PostillonError
from postillon.message.address import parse_address
from postillon.message.errors import AddressError
from postillon.policy.tlsrpt import RECORD_PREFIX, parse_record
from postillon.services.signers import SignerCache
from postillon.services.tlsrpt_report import (
    GZIP_TYPE,
    ReportMeta,
    build_report,
    gzip_report,
    report_email,
)
from postillon.storage.connect import Engines
from postillon.storage.domains_sql import SqlDomains
from postillon.storage.protocol import Store
from postillon.storage.records import NewMessage, NewRecipient
from postillon.storage.tlsrpt_sql import SqlTlsRpt, TlsRptCount
from postillon.storage.transactions import Transactions
from postillon.webhooks.guard import TargetGuard
from postillon.webhooks.result import DeliveryResult
from postillon.webhooks.sender import WebhookSender

log = structlog.get_logger(__name__)

# How long a claim keeps other nodes off a report: far longer than one send takes.
CLAIM_HOLD = timedelta(minutes=15)
# Days of counts kept: yesterday's report is built each day; a week leaves room to look back.
KEEP_DAYS = 7


class TxtSource(Protocol):
    """TXT lookups (postillon.dns.resolver.Resolver.txt)."""

    async def txt(self, name: str) -> list[str]:
        """Each TXT record at ``name``; raises a PostillonError when the lookup failed."""
        ...


class HttpsPoster(Protocol):
    """POSTs through the SSRF guard (postillon.webhooks.sender.WebhookSender)."""

    async def send(
        self, url: str, body: bytes, headers: dict[str, str], *, content_type: str = ...
    ) -> DeliveryResult:
        """POST ``body`` to ``url``; never raises."""
        ...


@dataclass(frozen=True)
class Sent:
    """What one pass did for one policy domain."""

    policy_domain: str
    delivered_to: tuple[str, ...]
    errors: tuple[str, ...]


class TlsRptReporter:
    """Builds and sends the daily reports; one per node, any number of nodes."""

    def __init__(
        self,
        *,
        settings: TlsRptSettings,
        tables: SqlTlsRpt,
        store: Store,
        signers: SignerCache,
        txt: TxtSource,
        https: HttpsPoster,
        clock: Clock,
        owner: str,
    ) -> None:
        self._settings = settings
        self._tables = tables
        self._store = store
        self._signers = signers
        self._txt = txt
        self._https = https
        self._clock = clock
        self._owner = owner

    async def run_once(self) -> list[Sent]:
        """Send what is due for yesterday (UTC); returns what was done, per domain. Counts older
        than :data:`KEEP_DAYS` days are deleted."""
        day = self._clock.now().date() - timedelta(days=1)
        counts = await self._tables.counts(day.isoformat())
        domains = sorted({count.session.policy_domain for count in counts})
        done: list[Sent] = []
        for domain in domains:
            meta = ReportMeta(
                organization_name=self._settings.organization_name,
                contact_info=self._settings.contact_info,
                submitter=self._settings.from_domain,
                day=day,
                policy_domain=domain,
            )
            claimed = await self._tables.claim(
                day=day.isoformat(),
                policy_domain=domain,
                report_id=meta.report_id,
                owner=self._owner,
                now=self._clock.now(),
                hold=CLAIM_HOLD,
            )
            if claimed:
                done.append(await self._send(meta, counts, day))
        await self._tables.forget_before((day - timedelta(days=KEEP_DAYS)).isoformat())
        return done

    async def _send(self, meta: ReportMeta, counts: Sequence[TlsRptCount], day: date) -> Sent:
        domain = meta.policy_domain
        try:
            uris = parse_record(await self._txt.txt(RECORD_PREFIX + domain))
        except PostillonError as error:
            return await self._finish(day, domain, (), (f"TLSRPT record lookup: {error}",))
        if not uris:
            # No (usable) record: nobody asked for this report; done for the day.
            return await self._finish(day, domain, (), ())
        gz = gzip_report(build_report(meta, counts))
        delivered: list[str] = []
        errors: list[str] = []
        for uri in uris:
            problem = await self._deliver(uri, meta, gz)
            if problem is None:
                delivered.append(uri)
            else:
                errors.append(f"{uri}: {problem}")
        return await self._finish(day, domain, tuple(delivered), tuple(errors))

    async def _finish(
        self, day: date, domain: str, delivered: tuple[str, ...], errors: tuple[str, ...]
    ) -> Sent:
        # Done when something arrived or nothing can; retried when every destination failed.
        error = "; ".join(errors) if errors and not delivered else None
        await self._tables.finish(
            day=day.isoformat(),
            policy_domain=domain,
            owner=self._owner,
            now=self._clock.now(),
            error=error,
        )
        log.info("tlsrpt.report", domain=domain, day=day.isoformat(), to=delivered, errors=errors)
        return Sent(domain, delivered, errors)

    async def _deliver(self, uri: str, meta: ReportMeta, gz: bytes) -> str | None:
        parts = urlsplit(uri)
        if parts.scheme.lower() == "https":
            result = await self._https.send(uri, gz, {}, content_type=GZIP_TYPE)
            return None if result.failure is None else (result.error or result.failure.value)
        return await self._mail(unquote(parts.path), meta, gz)

    async def _mail(self, address: str, meta: ReportMeta, gz: bytes) -> str | None:
        try:
            rcpt = parse_address(address).addr_spec
        except AddressError as error:
            return f"not an address: {error}"
        account = await self._store.ensure_account(self._settings.account)
        signers = await self._signers.signers_for(account.id, self._settings.from_domain)
        if signers is None:
            return f"{self._settings.from_domain} is not a verified domain of the account"
        from_address = f"{self._settings.from_localpart}@{self._settings.from_domain}"
        digest = hashlib.sha256(f"{meta.report_id} {rcpt}".encode()).hexdigest()[:16]
        message_id = f"<tlsrpt.{meta.day.isoformat()}.{digest}@{self._settings.from_domain}>"
        data = report_email(
            meta,
            gz,
            from_address=from_address,
            to=rcpt,
            message_id=message_id,
            now=self._clock.now(),
        )
        await self._store.enqueue(
            NewMessage(
                account_id=account.id,
                mail_from=from_address,
                recipients=(NewRecipient(rcpt),),
                body=sign_message(data, signers),
                subject=f"TLS report {meta.policy_domain} {meta.day.isoformat()}",
                header_message_id=message_id,
                from_header=from_address,
                tags=("tlsrpt",),
            )
        )
        return None


def build_reporter(
    settings: Settings,
    *,
    store: Store,
    engines: Engines,
    master: MasterKey,
    txt: TxtSource,
    clock: Clock,
    owner: str,
) -> TlsRptReporter:
    """The reporter of one node, sharing its store's engines; https through the SSRF guard."""
    transactions = Transactions(engines, clock)
    return TlsRptReporter(
        settings=settings.tlsrpt,
        tables=SqlTlsRpt(engines),
        store=store,
        signers=SignerCache(SqlDomains(transactions), master, clock),
        txt=txt,
        https=WebhookSender(TargetGuard.from_settings(settings.webhooks), clock=clock),
        clock=clock,
        owner=owner,
    )
