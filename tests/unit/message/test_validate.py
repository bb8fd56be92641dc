"""Validation: every problem names its field; size problems are told apart for a 413."""

from __future__ import annotations

from dataclasses import replace

import pytest

from postillon.message.errors import InvalidMessageError, ProblemKind, ValidationProblem
from postillon.message.model import Attachment, NamedAddress, OutgoingEmail
from postillon.message.validate import validate

LIMIT = 10_000
GOOD = OutgoingEmail(
    from_="Sender <s@sender.example>",
    to=("a@rcpt.example",),
    subject="Hello",
    text="Hi",
)
PNG = Attachment(b"\x89PNG", "logo.png", "image/png", "logo")


def problems_of(email: OutgoingEmail, limit: int = LIMIT) -> list[ValidationProblem]:
    with pytest.raises(InvalidMessageError) as caught:
        validate(email, max_message_bytes=limit)
    assert not caught.value.is_transient
    return list(caught.value.problems)


def test_good_message_validates() -> None:
    valid = validate(GOOD, max_message_bytes=LIMIT)
    assert valid.from_.addr_spec == "s@sender.example"
    assert valid.from_.display_name == "Sender"
    assert [a.addr_spec for a in valid.to] == ["a@rcpt.example"]


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        pytest.param({"from_": "nope"}, "from", "no '@'", id="bad-from"),
        pytest.param(
            {"to": ("a@rcpt.example", "b@rcpt.example", "c@rcpt.example\r\nBcc: e@x.example")},
            "to[2]",
            "header injection",
            id="injection-to-2",
        ),
        pytest.param({"cc": ("ok@r.example", "x")}, "cc[1]", "no '@'", id="bad-cc"),
        pytest.param({"bcc": ("\x00@r.example",)}, "bcc[0]", "header injection", id="nul-bcc"),
        pytest.param({"reply_to": ("r@r",)}, "reply_to[0]", "two labels", id="bad-reply-to"),
        pytest.param(
            {"from_": NamedAddress("s@sender.example", "Eve\nBcc: x@y.example")},
            "from.name",
            "header injection",
            id="structured-name-injection",
        ),
        pytest.param(
            {"from_": NamedAddress("s@sender.example\r\n", "Eve")},
            "from.email",
            "header injection",
            id="structured-email-injection",
        ),
        pytest.param(
            {"to": (NamedAddress("bad", "Bob"),)}, "to[0].email", "no '@'", id="structured-bad"
        ),
        pytest.param({"to": ()}, "to", "at least one recipient", id="no-recipients"),
        pytest.param({"subject": "Hi\r\nBcc: x@y.example"}, "subject", "injection", id="subj-crlf"),
        pytest.param({"subject": "Hi\nthere"}, "subject", "injection", id="subject-lf"),
        pytest.param({"subject": "Hi\x00"}, "subject", "injection", id="subject-nul"),
        pytest.param({"subject": "Hi\x1b[31m"}, "subject", "control", id="subject-escape"),
        pytest.param({"subject": "\udc80"}, "subject", "Unicode", id="subject-surrogate"),
        pytest.param({"subject": "x" * 999}, "subject", "longer than 998", id="subject-long"),
        pytest.param({"text": None}, "text", "text or an html body", id="no-body"),
        pytest.param({"text": ""}, "text", "text or an html body", id="empty-body"),
        pytest.param({"text": "a\ud800"}, "text", "Unicode", id="text-surrogate"),
        pytest.param({"html": "\ud800"}, "html", "Unicode", id="html-surrogate"),
        pytest.param(
            {"headers": (("From", "x@y.example"),)}, "headers.From", "from field", id="hdr-from"
        ),
        pytest.param({"headers": (("bcc", "x@y.example"),)}, "headers.bcc", "bcc", id="hdr-bcc"),
        pytest.param(
            {"headers": (("Message-ID", "<x@y>"),)}, "headers.Message-ID", "postillon", id="msgid"
        ),
        pytest.param(
            {"headers": (("DKIM-Signature", "v=1"),)},
            "headers.DKIM-Signature",
            "may not be set",
            id="dkim",
        ),
        pytest.param(
            {"headers": (("Received", "x"),)}, "headers.Received", "relays", id="received"
        ),
        pytest.param(
            {"headers": (("Content-Type", "text/plain"),)},
            "headers.Content-Type",
            "may not be set",
            id="content-type",
        ),
        pytest.param(
            {"headers": (("Organization", "x"),)},
            "headers.Organization",
            "not an allowed",
            id="unknown",
        ),
        pytest.param(
            {"headers": (("X-Postillon-Id", "1"),)}, "headers.X-Postillon-Id", "reserved", id="ours"
        ),
        pytest.param(
            {"headers": (("X-A B", "1"),)}, "headers.X-A B", "field name", id="name-space"
        ),
        pytest.param({"headers": (("X-A:", "1"),)}, "headers.X-A:", "field name", id="name-colon"),
        pytest.param({"headers": (("X-Ä", "1"),)}, "headers.X-Ä", "field name", id="name-utf8"),
        pytest.param(
            {"headers": (("X-Evil\r\nBcc", "1"),)}, "headers", "field name", id="name-injection"
        ),
        pytest.param(
            {"headers": (("X-Tag", "a\r\nBcc: x@y.example"),)},
            "headers.X-Tag",
            "header injection",
            id="value-crlf",
        ),
        pytest.param({"headers": (("X-Tag", "a\rb"),)}, "headers.X-Tag", "injection", id="val-cr"),
        pytest.param(
            {"headers": (("X-Tag", "a\x00"),)}, "headers.X-Tag", "injection", id="val-nul"
        ),
        pytest.param({"headers": (("X-Tag", "a\x7f"),)}, "headers.X-Tag", "control", id="val-del"),
        pytest.param(
            {"headers": (("X-Tag", "1"), ("x-tag", "2"))}, "headers.x-tag", "twice", id="dup"
        ),
        pytest.param(
            {"headers": (("References", "<ä@b>"),)}, "headers.References", "ASCII", id="ref-utf8"
        ),
        pytest.param(
            {"headers": (("In-Reply-To", "<" + "a" * 901 + ">"),)},
            "headers.In-Reply-To",
            "word longer",
            id="unfoldable",
        ),
        pytest.param(
            {"headers": (("X-Big", "a" * 4001),)}, "headers.X-Big", "4000", id="value-too-long"
        ),
        pytest.param(
            {"headers": (("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),)},
            "headers.List-Unsubscribe-Post",
            "needs a List-Unsubscribe",
            id="one-click-alone",
        ),
        pytest.param(
            {
                "headers": (
                    ("List-Unsubscribe", "<https://u.example/x>"),
                    ("List-Unsubscribe-Post", "yes"),
                )
            },
            "headers.List-Unsubscribe-Post",
            "One-Click",
            id="one-click-value",
        ),
        pytest.param(
            {"attachments": (Attachment(b"x", ""),)},
            "attachments[0].filename",
            "empty",
            id="empty-filename",
        ),
        pytest.param(
            {"attachments": (Attachment(b"x", "a\r\nb.txt"),)},
            "attachments[0].filename",
            "injection",
            id="filename-injection",
        ),
        pytest.param(
            {"attachments": (Attachment(b"x", "a" * 256),)},
            "attachments[0].filename",
            "255",
            id="filename-long",
        ),
        pytest.param(
            {"attachments": (Attachment(b"x", "a.txt", "text/plain; charset=x"),)},
            "attachments[0].content_type",
            "without parameters",
            id="type-params",
        ),
        pytest.param(
            {"attachments": (Attachment(b"x", "a.txt", "text/plain\r\nX: y"),)},
            "attachments[0].content_type",
            "injection",
            id="type-injection",
        ),
        pytest.param(
            {"attachments": (Attachment(b"x", "a.eml", "message/rfc822"),)},
            "attachments[0].content_type",
            "not accepted",
            id="type-message",
        ),
        pytest.param(
            {"attachments": (Attachment(b"x", "a", "multipart/mixed"),)},
            "attachments[0].content_type",
            "not accepted",
            id="type-multipart",
        ),
        pytest.param(
            {"attachments": (PNG,)},
            "attachments[0].content_id",
            "need an html body",
            id="inline-without-html",
        ),
        pytest.param(
            {"html": "<img src=cid:logo>", "attachments": (PNG, PNG)},
            "attachments[1].content_id",
            "another attachment",
            id="duplicate-cid",
        ),
        pytest.param(
            {"html": "x", "attachments": (replace(PNG, content_id="<logo>"),)},
            "attachments[0].content_id",
            "RFC 2392",
            id="cid-brackets",
        ),
        pytest.param(
            {"html": "x", "attachments": (replace(PNG, content_id="a\nb"),)},
            "attachments[0].content_id",
            "injection",
            id="cid-injection",
        ),
    ],
)
def test_problem_names_its_field(changes: dict[str, object], field: str, fragment: str) -> None:
    problems = problems_of(replace(GOOD, **changes))  # type: ignore[arg-type]
    assert [p.field for p in problems] == [field]
    assert fragment in problems[0].message
    assert problems[0].kind is ProblemKind.INVALID


@pytest.mark.parametrize(
    ("headers"),
    [
        pytest.param((("X-Campaign", "spring"),), id="x-header"),
        pytest.param((("X-Note", "Grüße aus Köln"),), id="x-header-utf8"),
        pytest.param((("In-Reply-To", "<a@b.example>"),), id="in-reply-to"),
        pytest.param((("References", "<a@b.example> <c@d.example>"),), id="references"),
        pytest.param(
            (
                ("List-Unsubscribe", "<https://u.example/x>, <mailto:u@u.example>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ),
            id="one-click",
        ),
        pytest.param((("List-Id", "News <news.example.com>"),), id="list-id"),
        pytest.param((("Auto-Submitted", "auto-generated"),), id="auto-submitted"),
    ],
)
def test_allowed_headers(headers: tuple[tuple[str, str], ...]) -> None:
    assert validate(replace(GOOD, headers=headers), max_message_bytes=LIMIT).headers == headers


def test_every_problem_is_reported_at_once() -> None:
    bad = replace(GOOD, from_="x", to=("y",), text=None, headers=(("Date", "now"),))
    assert [p.field for p in problems_of(bad)] == ["from", "to[0]", "text", "headers.Date"]


def test_oversize_content_is_a_distinct_problem() -> None:
    big = replace(GOOD, attachments=(Attachment(b"x" * LIMIT, "big.bin"),))
    problems = problems_of(big)
    assert [(p.field, p.kind) for p in problems] == [("message", ProblemKind.TOO_LARGE)]
    with pytest.raises(InvalidMessageError) as caught:
        validate(big, max_message_bytes=LIMIT)
    assert caught.value.is_too_large


def test_invalid_message_error_needs_problems() -> None:
    with pytest.raises(ValueError, match="at least one"):
        InvalidMessageError([])
