"""Composition: MIME structure, headers, encodings, envelope; checked by parsing back."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage

import pytest

from postillon.clock import FakeClock
from postillon.message.compose import compose
from postillon.message.errors import InvalidMessageError, ProblemKind
from postillon.message.model import Attachment, NamedAddress, OutgoingEmail
from postillon.message.validate import validate
from tests.unit.message.wire import (
    assert_wire_safe,
    build,
    content,
    counting_random,
    header_names,
    parse,
)

BASE = OutgoingEmail(
    from_="Sender <s@sender.example>",
    to=("a@rcpt.example",),
    subject="Hello",
    text="Hi there\n",
)
HTML = '<p>Hi <img src="cid:logo"></p>\n'
LOGO = Attachment(b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "logo.png", "image/png", "logo")
PDF = Attachment(b"%PDF-1.7\n" + bytes(200), "report.pdf", "application/pdf")


def structure(part: EmailMessage) -> object:
    """The content-type tree: a type for a leaf, (type, [children]) for a multipart."""
    if part.is_multipart():
        children = [structure(child) for child in part.iter_parts()]  # type: ignore[arg-type]
        return (part.get_content_type(), children)
    return part.get_content_type()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, "text/plain", id="text"),
        pytest.param({"text": None, "html": HTML}, "text/html", id="html"),
        pytest.param(
            {"html": HTML}, ("multipart/alternative", ["text/plain", "text/html"]), id="both"
        ),
        pytest.param(
            {"html": HTML, "attachments": (LOGO,)},
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png"])],
            ),
            id="inline",
        ),
        pytest.param(
            {"attachments": (PDF,)},
            ("multipart/mixed", ["text/plain", "application/pdf"]),
            id="attachment",
        ),
        pytest.param(
            {"html": HTML, "attachments": (PDF, LOGO)},
            (
                "multipart/mixed",
                [
                    (
                        "multipart/alternative",
                        ["text/plain", ("multipart/related", ["text/html", "image/png"])],
                    ),
                    "application/pdf",
                ],
            ),
            id="everything",
        ),
    ],
)
def test_mime_structure(changes: dict[str, object], expected: object) -> None:
    composed = build(replace(BASE, **changes))  # type: ignore[arg-type]
    assert_wire_safe(composed.data)
    assert structure(parse(composed.data)) == expected


def test_top_level_headers() -> None:
    composed = build(
        replace(
            BASE, cc=("c@rcpt.example",), bcc=("hidden@rcpt.example",), reply_to=("r@s.example",)
        )
    )
    parsed = parse(composed.data)
    assert header_names(composed.data)[:8] == [
        "Date", "From", "Reply-To", "To", "Cc", "Subject", "Message-ID", "MIME-Version"
    ]  # fmt: skip
    assert parsed["Date"] == "Thu, 01 Jan 2026 00:00:00 +0000"  # FakeClock's start
    assert composed.message_id == "<00000000000000000000000000000001@mta.postillon.example>"
    assert parsed["Message-ID"] == composed.message_id
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["Bcc"] is None
    assert b"hidden" not in composed.data
    assert composed.rcpt_to == ("a@rcpt.example", "c@rcpt.example", "hidden@rcpt.example")


def test_envelope_deduplicates_on_case_insensitive_domain_only() -> None:
    composed = build(
        replace(
            BASE,
            to=("a@rcpt.example", "A@rcpt.example"),
            cc=("a@RCPT.example", "Name <a@Rcpt.Example>"),
            bcc=("b@rcpt.example", "a@rcpt.example"),
        )
    )
    assert composed.rcpt_to == ("a@rcpt.example", "A@rcpt.example", "b@rcpt.example")


def test_non_ascii_display_names_and_subject_use_encoded_words() -> None:
    composed = build(
        replace(
            BASE,
            from_=NamedAddress("s@sender.example", "Zoë Ünïcödé"),
            to=('"Doe, Jane" <j@rcpt.example>', "日本語の名前 <n@rcpt.example>"),
            subject="Grüße — 你好 " * 12,
        )
    )
    assert composed.data.isascii()
    assert b"=?utf-8?B?" in composed.data
    parsed = parse(composed.data)
    assert parsed["From"].addresses[0].display_name == "Zoë Ünïcödé"
    names = [a.display_name for a in parsed["To"].addresses]
    assert names == ["Doe, Jane", "日本語の名前"]
    assert parsed["Subject"] == "Grüße — 你好 " * 12
    assert not composed.needs_smtputf8
    assert not composed.needs_8bitmime


def test_idna_domain_goes_out_as_a_label() -> None:
    composed = build(replace(BASE, to=("k@bücher.example",)))
    assert composed.rcpt_to == ("k@xn--bcher-kva.example",)
    assert parse(composed.data)["To"].addresses[0].domain == "xn--bcher-kva.example"


def test_utf8_local_part_needs_smtputf8() -> None:
    composed = build(replace(BASE, to=("José <josé@rcpt.example>",)))
    assert composed.needs_smtputf8
    assert composed.needs_8bitmime
    assert "josé@rcpt.example".encode() in composed.data
    assert composed.rcpt_to == ("josé@rcpt.example",)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        pytest.param("plain ascii\n", "7bit", id="ascii"),
        pytest.param("x" * 998 + "\n", "7bit", id="line-998"),
        pytest.param("x" * 999 + "\n", "quoted-printable", id="line-999"),
        pytest.param("café\n", "quoted-printable", id="non-ascii"),
        pytest.param("nul\x00\n", "quoted-printable", id="nul"),
    ],
)
def test_transfer_encoding_rule(text: str, encoding: str) -> None:
    composed = build(replace(BASE, text=text))
    assert_wire_safe(composed.data)
    parsed = parse(composed.data)
    assert parsed["Content-Transfer-Encoding"] == encoding
    assert content(parsed) == text


def test_lone_cr_and_lf_become_crlf() -> None:
    composed = build(replace(BASE, text="a\rb\nc\r\nd", html="<p>\r</p>\n"))
    assert_wire_safe(composed.data)
    parsed = parse(composed.data)
    plain = parsed.get_body(("plain",))
    assert plain is not None
    assert content(plain) == "a\nb\nc\nd"  # a part keeps its own (missing) last line end


def test_attachments_round_trip_with_non_ascii_filenames() -> None:
    long_name = "Rechnung für März — " + "ü" * 80 + ".pdf"
    files = (
        Attachment(bytes(range(256)) * 3, "résumé.pdf", "application/pdf"),
        Attachment(b"x", long_name, "application/pdf"),
        Attachment(b"y", 'quote" and \\ back.txt', "text/plain"),
    )
    composed = build(replace(BASE, attachments=files))
    assert_wire_safe(composed.data)
    assert composed.data.isascii()
    assert b"filename*0*=utf-8''" in composed.data  # RFC 2231 continuation
    parts = list(parse(composed.data).iter_attachments())
    assert [p.get_filename() for p in parts] == [f.filename for f in files]
    assert [p.get_content_type() for p in parts] == [f.content_type for f in files]
    assert [p.get_content_disposition() for p in parts] == ["attachment"] * 3
    assert [p.get_payload(decode=True) for p in parts] == [f.content for f in files]


def test_inline_part_has_content_id_and_inline_disposition() -> None:
    composed = build(replace(BASE, html=HTML, attachments=(LOGO,)))
    parsed = parse(composed.data)
    related = next(p for p in parsed.walk() if p.get_content_type() == "multipart/related")
    html, image = related.iter_parts()
    assert isinstance(html, EmailMessage)
    assert isinstance(image, EmailMessage)
    assert content(html) == HTML
    assert image["Content-ID"] == "<logo>"
    assert image.get_content_disposition() == "inline"
    assert image.get_payload(decode=True) == LOGO.content


def test_custom_headers_are_written_and_encoded() -> None:
    headers = (
        ("X-Campaign", "spring"),
        ("X-Note", "Grüße aus Köln"),
        ("References", " ".join(f"<id{i}@mail.example>" for i in range(30))),
        ("List-Unsubscribe", "<https://u.example/x>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    composed = build(replace(BASE, headers=headers))
    assert_wire_safe(composed.data)
    parsed = parse(composed.data)
    for name, value in headers:
        assert parsed[name] == value
    assert b"X-Note: =?utf-8?B?" in composed.data


def test_boundary_never_occurs_in_content() -> None:
    # The first boundary the counting random produces after the Message-ID (call 2) is
    # written in the text; the composer must pick another one.
    first = "=_" + (2).to_bytes(16, "big").hex()
    composed = build(replace(BASE, text=f"--{first}\n", html="<p>x</p>"))
    parsed = parse(composed.data)
    assert parsed.get_boundary() != first
    plain = parsed.get_body(("plain",))
    assert plain is not None
    assert content(plain) == f"--{first}\n"


def test_composed_size_limit_is_a_too_large_problem() -> None:
    message = replace(BASE, attachments=(Attachment(b"x" * 3600, "a.bin"),))
    valid = validate(message, max_message_bytes=5000)  # raw content fits ...
    with pytest.raises(InvalidMessageError) as caught:  # ... base64 and headers do not
        compose(
            valid,
            message_id_domain="mta.postillon.example",
            clock=FakeClock(),
            max_message_bytes=5000,
            random_bytes=counting_random(),
        )
    assert caught.value.is_too_large
    assert caught.value.problems[0].kind is ProblemKind.TOO_LARGE
