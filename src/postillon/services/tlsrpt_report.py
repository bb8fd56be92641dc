"""The TLS-RPT report (RFC 8460 §4) of one day and policy domain, and the ways it travels.

Owns: the JSON report built from the day's counts (§4.4: one ``policies`` entry per policy
seen, its summary, and failure details per result type, MX host and receiving IP), its gzip
form and file name (§5.1), and the email that carries it to a ``mailto:`` address (§5.3:
multipart/report; report-type="tlsrpt", the gzip as application/tlsrpt+gzip, TLS-Report-Domain
and TLS-Report-Submitter fields). Pure: it must not look anything up, store or send.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from postillon.storage.tlsrpt_sql import TlsRptCount

# RFC 8460 §5.3 and §6.4/§6.5: the media types of a report.
JSON_TYPE = "application/tlsrpt+json"
GZIP_TYPE = "application/tlsrpt+gzip"
# gzip is deterministic with a fixed mtime: two nodes building the same report get equal bytes.
GZIP_MTIME = 0


@dataclass(frozen=True)
class ReportMeta:
    """Who reports and which report this is."""

    organization_name: str
    contact_info: str
    submitter: str  # our domain, the From domain of mailed reports
    day: date
    policy_domain: str

    @property
    def report_id(self) -> str:
        """Stable for a day and domain, so every node names the same report the same way."""
        return f"{self.day.isoformat()}T00:00:00Z_{self.policy_domain}@{self.submitter}"

    @property
    def start(self) -> datetime:
        """The start of the UTC day."""
        return datetime.combine(self.day, time(0), UTC)

    @property
    def end(self) -> datetime:
        """The end of the UTC day (the next day's start, exclusive)."""
        return self.start + timedelta(days=1)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_report(meta: ReportMeta, counts: Sequence[TlsRptCount]) -> dict[str, Any]:
    """The report object of §4.4 for ``meta.policy_domain``'s counts of ``meta.day``."""
    policies: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for count in counts:
        session = count.session
        if session.policy_domain != meta.policy_domain:
            continue
        key = (session.policy_type, session.policy_strings)
        entry = policies.setdefault(
            key,
            {
                "policy": {
                    "policy-type": session.policy_type,
                    "policy-string": list(session.policy_strings),
                    "policy-domain": session.policy_domain,
                    "mx-host": [],
                },
                "summary": {"total-successful-session-count": 0, "total-failure-session-count": 0},
                "failure-details": [],
            },
        )
        hosts: list[str] = entry["policy"]["mx-host"]
        if session.mx_host and session.mx_host not in hosts:
            hosts.append(session.mx_host)
        summary = entry["summary"]
        if not session.result_type:
            summary["total-successful-session-count"] += count.sessions
            continue
        summary["total-failure-session-count"] += count.sessions
        detail: dict[str, Any] = {
            "result-type": session.result_type,
            "receiving-mx-hostname": session.mx_host,
            "failed-session-count": count.sessions,
        }
        if session.receiving_ip:
            detail["receiving-ip"] = session.receiving_ip
        entry["failure-details"].append(detail)
    for entry in policies.values():
        if not entry["failure-details"]:
            del entry["failure-details"]
        if entry["policy"]["policy-type"] == "no-policy-found":
            del entry["policy"]["policy-string"]
    return {
        "organization-name": meta.organization_name,
        "date-range": {
            "start-datetime": _stamp(meta.start),
            "end-datetime": _stamp(meta.end - timedelta(seconds=1)),
        },
        "contact-info": meta.contact_info,
        "report-id": meta.report_id,
        "policies": list(policies.values()),
    }


def gzip_report(report: dict[str, Any]) -> bytes:
    """The report as gzip-compressed JSON (§5.1), byte for byte the same for the same report."""
    text = json.dumps(report, separators=(",", ":"), sort_keys=False).encode()
    return gzip.compress(text, mtime=GZIP_MTIME)


def file_name(meta: ReportMeta) -> str:
    """§5.1: ``sender!policy-domain!begin!end.json.gz`` (begin and end as UNIX seconds)."""
    begin, end = int(meta.start.timestamp()), int(meta.end.timestamp())
    return f"{meta.submitter}!{meta.policy_domain}!{begin}!{end}.json.gz"


def report_email(
    meta: ReportMeta,
    gz: bytes,
    *,
    from_address: str,
    to: str,
    message_id: str,
    now: datetime,
) -> bytes:
    """The §5.3 email for ``to``: multipart/report; report-type="tlsrpt", CRLF line ends."""
    message = EmailMessage(policy=SMTP)
    message["From"] = from_address
    message["To"] = to
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id
    message["Subject"] = (
        f"Report Domain: {meta.policy_domain} Submitter: {meta.submitter} "
        f"Report-ID: <{meta.report_id}>"
    )
    message["TLS-Report-Domain"] = meta.policy_domain
    message["TLS-Report-Submitter"] = meta.submitter
    message.set_content(
        f"This is an aggregate TLS report from {meta.organization_name} ({meta.submitter}) "
        f"for {meta.policy_domain}, {meta.day.isoformat()} (RFC 8460).\n"
    )
    message.add_attachment(
        gz, maintype="application", subtype="tlsrpt+gzip", filename=file_name(meta)
    )
    message.replace_header("Content-Type", 'multipart/report; report-type="tlsrpt"')
    boundary = hashlib.sha256(f"{meta.report_id} {to}".encode()).hexdigest()[:24]
    message.set_boundary(f"tlsrpt-{boundary}")
    return message.as_bytes()
