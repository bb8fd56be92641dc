"""The return path as a use case: which envelope recipients the inbound listener accepts, and
what happens to a report once its DATA is received.

Owns the RCPT rule (a return-path address whose keyed tag verifies; an untagged one only when
a message was stored with exactly that envelope sender, i.e. queued before tags existed;
everything else refused, so a report to a made-up or altered address touches nothing) and
receiving: read the report (reports/), find the message its return path names, work out the
effects (services.report_effects) and keep the report with them in one commit. Reports that
match nothing are kept too (visible, never an error). Mail to ``unsubscribe@pstbounces.
<domain>`` (a known sender domain) is the mailto of one-click unsubscribe: its Subject is the
token. It must not speak SMTP.
"""

from __future__ import annotations

from postillon.domains import ReturnPath, TagKey, read_return_path
from postillon.domains.return_path import read_unsubscribe_address
from postillon.reports import read_report, subject_of
from postillon.services.report_effects import effects_for, summary_of
from postillon.services.unsubscribe import UnsubscribeService
from postillon.storage.reports_sql import NewReport, ReturnPathMessage, SqlReports, StoredReport

# The kind kept for a mail to the List-Unsubscribe mailto (not a report of reports/).
UNSUBSCRIBE_KIND = "unsubscribe"


class ReturnPathService:
    """Accept and receive reports sent to our return-path addresses."""

    def __init__(self, reports: SqlReports, key: TagKey, unsubscribe: UnsubscribeService) -> None:
        self._reports = reports
        self._key = key
        self._unsubscribe = unsubscribe

    async def _message(self, return_path: ReturnPath | None) -> ReturnPathMessage | None:
        if return_path is None:
            return None
        message = await self._reports.message_for(return_path.message_id)
        if message is None:
            return None
        if not return_path.is_tagged and message.mail_from.lower() != return_path.address.lower():
            return None  # an untagged address we never used for this message
        return message

    async def accepts(self, rcpt_to: str) -> bool:
        """Whether RCPT TO ``rcpt_to`` is one of our return paths (a verified tag, or an
        untagged address a stored message was sent with). Cheap for a tagged address: no
        database read."""
        domain = read_unsubscribe_address(rcpt_to)
        if domain is not None:
            return await self._reports.is_sender_domain(domain)
        return_path = read_return_path(rcpt_to, self._key)
        if return_path is None:
            return False
        if return_path.is_tagged:
            return True
        return await self._message(return_path) is not None

    async def receive(
        self, *, mail_from: str, rcpt_to: str, data: bytes, peer: str | None
    ) -> StoredReport:
        """Read and keep one report sent to ``rcpt_to``, applying its effects in the same
        commit. A report whose address names no stored message is kept with no account."""
        if read_unsubscribe_address(rcpt_to) is not None:
            return await self._mailto_unsubscribe(mail_from, rcpt_to, data, peer)
        report = read_report(data)
        message = await self._message(read_return_path(rcpt_to, self._key))
        effects = effects_for(report, message) if message is not None else []
        return await self._reports.record(
            NewReport(
                mail_from=mail_from,
                rcpt_to=rcpt_to,
                peer=peer,
                kind=report.kind.value,
                shape=report.shape,
                summary=summary_of(report),
                data=data,
                account_id=message.account_id if message is not None else None,
                message_id=message.id if message is not None else None,
            ),
            effects,
        )

    async def _mailto_unsubscribe(
        self, mail_from: str, rcpt_to: str, data: bytes, peer: str | None
    ) -> StoredReport:
        """A mail to the List-Unsubscribe mailto: its Subject is the token."""
        token = subject_of(data).strip()
        done = await self._unsubscribe.unsubscribe(token) if token else None
        target = self._unsubscribe.target(token) if done is not None else None
        return await self._reports.record(
            NewReport(
                mail_from=mail_from,
                rcpt_to=rcpt_to,
                peer=peer,
                kind=UNSUBSCRIBE_KIND,
                shape="mailto",
                summary={"problems": [] if done else ["no valid unsubscribe token in the Subject"]},
                data=data,
                account_id=target.account_id if target is not None else None,
                message_id=done.message_id if done is not None else None,
            ),
            (),
        )

    async def reports(
        self, account_id: str | None, *, message_id: str | None = None, limit: int = 50
    ) -> list[StoredReport]:
        """An account's reports (None: those that matched no message), newest first."""
        return await self._reports.list(account_id=account_id, message_id=message_id, limit=limit)

    async def head(self, report_id: str, account_id: str | None) -> bytes | None:
        """The kept head of a report (the account's, or an unmatched one with None)."""
        return await self._reports.head(report_id, account_id=account_id)
