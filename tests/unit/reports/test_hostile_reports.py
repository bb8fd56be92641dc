"""Hostile and broken reports: never an exception, bounded work, nothing invented."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from postillon.reports import Report, ReportKind, mime, read_report
from tests.unit.reports import shapes

# Generous for a shared 2-core machine; the real cost is a few milliseconds.
MAX_SECONDS = 2.0


def _timed(data: bytes) -> tuple[float, Report]:
    started = time.perf_counter()
    report = read_report(data)
    return time.perf_counter() - started, report


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise(data: bytes) -> None:
    read_report(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_random_text_after_report_headers_never_raises(body: str) -> None:
    head = shapes.POSTFIX_DSN.raw.split("\n\n", 1)[0]
    read_report((head + "\n\n" + body).encode("utf-8", "surrogatepass"))


def test_deep_nesting_is_refused_quickly() -> None:
    depth = 20_000
    opening = "".join(
        f'--b{i}\nContent-Type: multipart/mixed; boundary="b{i + 1}"\n\n' for i in range(depth)
    )
    raw = 'From: MAILER-DAEMON@x.example\nContent-Type: multipart/mixed; boundary="b0"\n\n'
    elapsed, report = _timed((raw + opening).encode())
    assert elapsed < MAX_SECONDS
    assert report.kind is ReportKind.UNKNOWN
    assert "nested" in report.problems[0]


def test_ten_megabyte_report_reads_its_head_only() -> None:
    data = shapes.POSTFIX_DSN.data + b"x" * (10 * 1024 * 1024)
    elapsed, report = _timed(data)
    assert elapsed < MAX_SECONDS
    assert report.kind is ReportKind.BOUNCE
    assert any(str(mime.MAX_PARSED_BYTES) in p for p in report.problems)


def test_text_made_of_at_signs_and_local_parts_is_cheap() -> None:
    body = ("a" * 60 + "@") * 1000 + "b" * 60_000 + "@" * 5000
    raw = shapes._plain("MAILER-DAEMON@x.example", "Undelivered Mail", body)
    elapsed, report = _timed(raw.encode())
    assert elapsed < MAX_SECONDS
    assert len(report.recipients) <= 100


def test_dsn_with_thousands_of_recipients_is_cut() -> None:
    blocks = "".join(
        f"Final-Recipient: rfc822; u{i}@example.net\nAction: failed\nStatus: 5.1.1\n\n"
        for i in range(5000)
    )
    raw = shapes._report("delivery-status", "x", "message/delivery-status", blocks, "")
    elapsed, report = _timed(raw.encode())
    assert elapsed < MAX_SECONDS
    assert len(report.recipients) == 100
    assert any("more than 100" in p for p in report.problems)


def test_broken_encodings_and_charsets_do_not_raise() -> None:
    raw = (
        "From: MAILER-DAEMON@x.example\nSubject: =?x-unknown?B?!!!?=\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="Z"\n\n'
        "--Z\nContent-Type: text/plain; charset=x-no-such-charset\n"
        "Content-Transfer-Encoding: base64\n\n%%%not base64%%%\n"
        "--Z\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; bob@example.net\n"
        "Action: failed\nStatus: 5.1.1\n"  # no closing boundary
    )
    report = read_report(raw.encode())
    assert report.kind is ReportKind.BOUNCE
    assert report.recipients[0].address == "bob@example.net"


def test_report_that_is_no_mime_at_all_is_unknown() -> None:
    report = read_report(b"\x00\xff\r\n\r\n\x00")
    assert report.kind is ReportKind.UNKNOWN
    assert report.recipients == ()
