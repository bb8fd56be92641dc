"""Matching a read report to the message's recipients, and the effects that follow (pure)."""

from __future__ import annotations

from dataclasses import replace

from postillon.queue.status import RecipientStatus
from postillon.reports import Action, DsnRecipient, OriginalHeaders, Report, ReportKind
from postillon.services.report_effects import effects_for
from postillon.storage.reports_sql import MessageRecipient, ReturnPathMessage

BOB = MessageRecipient("r1", "Bob@Example.net", RecipientStatus.DELIVERED)
CAROL = MessageRecipient("r2", "carol@example.net", RecipientStatus.DELIVERED)
TWO = ReturnPathMessage("m1", "a1", "rp", ("t",), {"k": "v"}, (BOB, CAROL))
ONE = replace(TWO, recipients=(BOB,))


def bounce(*lines: DsnRecipient) -> Report:
    return Report(kind=ReportKind.BOUNCE, shape="rfc3464", recipients=lines)


def failed(address: str, status: str = "5.1.1", **more: str) -> DsnRecipient:
    return DsnRecipient(address, Action.FAILED, status, "550 5.1.1 no such user", **more)


def test_failed_recipient_bounces_late_and_is_suppressed_when_dead() -> None:
    [effect] = effects_for(bounce(failed("bob@example.NET")), TWO)
    assert (effect.recipient_id, effect.new_status) == ("r1", RecipientStatus.BOUNCED)
    assert (effect.bounce_class, effect.suppress_reason) == ("bad_mailbox", "bounce")
    assert (effect.reply_code, effect.enhanced_code) == (550, "5.1.1")
    assert effect.reply_text == "5.1.1 no such user"
    assert effect.payload["async"] is True
    assert effect.payload["tags"] == ["t"]


def test_mailbox_full_bounces_but_does_not_suppress() -> None:
    line = DsnRecipient("carol@example.net", Action.FAILED, "5.2.2", "552 5.2.2 mailbox full")
    [effect] = effects_for(bounce(line), TWO)
    assert (effect.bounce_class, effect.suppress_reason) == ("mailbox_full", None)


def test_original_recipient_matches_when_the_final_one_was_forwarded() -> None:
    line = failed("bob@forward.example", original_recipient="bob@example.net")
    [effect] = effects_for(bounce(line, failed("zed@else.example")), TWO)
    assert effect.recipient_id == "r1"


def test_sole_recipient_takes_a_report_naming_one_other_address() -> None:
    assert [e.recipient_id for e in effects_for(bounce(failed("x@forward.example")), ONE)] == ["r1"]
    # With two recipients, an address that matches neither matches nothing.
    assert effects_for(bounce(failed("x@forward.example")), TWO) == []


def test_delay_and_delivered_lines() -> None:
    delayed = DsnRecipient("carol@example.net", Action.DELAYED, "4.4.1", "timed out")
    relayed = DsnRecipient("bob@example.net", Action.RELAYED, "2.0.0")
    effects = effects_for(replace(bounce(delayed, relayed), kind=ReportKind.DELAY), TWO)
    assert [(e.recipient_id, e.event_type, e.new_status) for e in effects] == [
        ("r2", "email.delayed", None)
    ]


def test_complaint_from_rcpt_to_or_the_original_to() -> None:
    arf = Report(kind=ReportKind.COMPLAINT, shape="arf", feedback_type="abuse")
    by_rcpt = replace(arf, complained_addresses=("carol@example.net",))
    by_to = replace(arf, original=OriginalHeaders(to="Carol <carol@example.net>"))
    for report in (by_rcpt, by_to):
        [effect] = effects_for(report, TWO)
        assert (effect.recipient_id, effect.event_type) == ("r2", "email.complained")
        assert (effect.suppress_reason, effect.suppress_detail) == (
            "complaint",
            "feedback-type abuse",
        )
    assert effects_for(arf, TWO) == []  # redacted, two recipients: nobody to blame
    assert [e.recipient_id for e in effects_for(arf, ONE)] == ["r1"]


def test_auto_replies_and_unknown_reports_do_nothing() -> None:
    for kind in (ReportKind.AUTO_REPLY, ReportKind.UNKNOWN, ReportKind.DELIVERED):
        assert (
            effects_for(Report(kind=kind, shape="x", recipients=(failed("bob@example.net"),)), TWO)
            == []
        )
