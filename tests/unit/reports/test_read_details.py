"""What a report's reading keeps besides its kind: the quoted original, ARF fields, several
recipients, the reporting MTA."""

from __future__ import annotations

from postillon.reports import Action, ReportKind, read_report
from tests.unit.reports import shapes

MESSAGE_ID = "<01JXAMPLE0000000000000000@example.com>"


def test_dsn_keeps_the_original_headers_and_reporting_mta() -> None:
    report = read_report(shapes.POSTFIX_DSN.data)
    assert report.original.message_id == MESSAGE_ID
    assert report.original.return_path == f"<{shapes.RETURN_PATH}>"
    assert report.reporting_mta == "mx.example.net"
    [recipient] = report.recipients
    assert recipient.original_recipient == "bob@example.net"
    assert recipient.remote_mta == "mail.example.net"
    assert recipient.smtp_code == 550


def test_prose_bounce_reads_the_inline_original() -> None:
    assert read_report(shapes.EXIM.data).original.message_id == MESSAGE_ID
    assert read_report(shapes.QMAIL.data).original.subject == "Your order"


def test_arf_keeps_feedback_type_rcpt_and_original() -> None:
    report = read_report(shapes.ARF_ABUSE.data)
    assert report.feedback_type == "abuse"
    assert report.complained_addresses == ("bob@example.net",)
    assert report.reporting_mta == "example.com"
    assert report.original.to == "bob@example.net"
    redacted = read_report(shapes.ARF_REDACTED.data)
    assert redacted.complained_addresses == ()
    assert redacted.original.message_id == MESSAGE_ID


def test_arf_without_feedback_type_is_a_complaint_of_type_other() -> None:
    raw = shapes.ARF_ABUSE.raw.replace("Feedback-Type: abuse\n", "")
    report = read_report(raw.encode())
    assert report.kind is ReportKind.COMPLAINT
    assert report.feedback_type == "other"
    assert any("Feedback-Type" in p for p in report.problems)


def test_dsn_with_several_recipients_is_a_bounce_if_any_failed() -> None:
    machine = (
        "Reporting-MTA: dns; mx.example.net\n\n"
        "Final-Recipient: rfc822; bob@example.net\nAction: delivered\nStatus: 2.0.0\n\n"
        "Final-Recipient: rfc822; carol@example.net\nAction: failed\nStatus: 5.1.1\n\n"
        "Final-Recipient: rfc822;\nAction: failed\nStatus: 5.1.1\n"
    )
    raw = shapes._report("delivery-status", "x", "message/delivery-status", machine, "")
    report = read_report(raw.encode())
    assert report.kind is ReportKind.BOUNCE
    assert [(r.address, r.action) for r in report.recipients] == [
        ("bob@example.net", Action.DELIVERED),
        ("carol@example.net", Action.FAILED),
    ]
    assert report.problems == ("a recipient block without a Final-Recipient address",)


def test_success_dsn_is_delivered_not_a_bounce() -> None:
    raw = shapes.POSTFIX_DSN.raw.replace(
        "Action: failed\nStatus: 5.1.1", "Action: relayed\nStatus: 2.0.0"
    )
    assert read_report(raw.encode()).kind is ReportKind.DELIVERED


def test_ip_addresses_are_not_status_codes() -> None:
    raw = shapes._plain(
        "MAILER-DAEMON@mx.example.net",
        "Undelivered Mail Returned to Sender",
        "<bob@example.net>: host mail.example.net[10.2.3.4] refused to talk to me\n",
    )
    [recipient] = read_report(raw.encode()).recipients
    assert recipient.status is None
    assert recipient.action is Action.FAILED


def test_bounce_for_two_recipients_gives_each_its_own_reason() -> None:
    raw = shapes._plain(
        "MAILER-DAEMON@mx.example.net",
        "Undelivered Mail Returned to Sender",
        "This is the mail system at host mx.example.net.\n\n"
        "<bob@example.net>: host a[192.0.2.5] said: 550 5.1.1 no such user\n\n"
        "<carol@example.org>: host b[192.0.2.6] said: 552 5.2.2 mailbox full\n",
    )
    report = read_report(raw.encode())
    assert [(r.address, r.status) for r in report.recipients] == [
        ("bob@example.net", "5.1.1"),
        ("carol@example.org", "5.2.2"),
    ]
