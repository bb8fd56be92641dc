"""Reading a stored message back for display: bodies through every MIME structure the composer
makes and others found in the wild, charsets and transfer encodings, decoded header fields, and
malformed input (shown as far as possible, never an exception)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.message.model import Attachment as AttachmentIn
from postillon.message.model import OutgoingEmail
from postillon.message.parts import (
    MAX_BODY_CHARS,
    MAX_DEPTH,
    MAX_LISTED_PARTS,
    Attachment,
    read_parts,
)
from tests.unit.message.wire import build

BASE = OutgoingEmail(
    from_="Zoë <s@sender.example>", to=("a@rcpt.example",), subject="Grüße", text="Hi there\n"
)
HTML = '<p>Hi <img src="cid:logo"></p>\n'
LOGO = AttachmentIn(b"\x89PNG\r\n\x1a\n" + bytes(100), "logo.png", "image/png", "logo")
PDF = AttachmentIn(b"%PDF-1.7\n" + bytes(200), "report.pdf", "application/pdf")


def _raw(*lines: str, body: bytes = b"") -> bytes:
    return "\r\n".join(lines).encode("ascii") + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    ("changes", "text", "html", "attachments"),
    [
        pytest.param({}, "Hi there\n", None, [], id="text-only"),
        pytest.param({"text": None, "html": HTML}, None, HTML, [], id="html-only"),
        pytest.param({"html": HTML}, "Hi there\n", HTML, [], id="alternative"),
        pytest.param(
            {"html": HTML, "attachments": (LOGO,)},
            "Hi there\n",
            HTML,
            [Attachment("logo.png", "image/png", len(LOGO.content))],
            id="related",
        ),
        pytest.param(
            {"html": HTML, "attachments": (PDF, LOGO)},
            "Hi there\n",
            HTML,
            [
                Attachment("logo.png", "image/png", len(LOGO.content)),
                Attachment("report.pdf", "application/pdf", len(PDF.content)),
            ],
            id="mixed-around-alternative",
        ),
    ],
)
def test_bodies_and_attachments_of_composed_messages(
    changes: dict[str, object], text: str | None, html: str | None, attachments: list[Attachment]
) -> None:
    composed = build(replace(BASE, **changes))  # type: ignore[arg-type]
    parts = read_parts(composed.data)
    assert parts.text == text
    assert parts.html == html
    assert list(parts.attachments) == attachments
    assert parts.problems == ()


def test_headers_are_listed_in_order_and_decoded() -> None:
    parts = read_parts(build(BASE).data)
    names = [name for name, _ in parts.headers]
    assert names[:3] == ["Date", "From", "To"]
    fields = dict(parts.headers)
    assert fields["Subject"] == "Grüße"
    assert fields["From"] == "Zoë <s@sender.example>"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param(
            _raw(
                "Content-Type: text/plain; charset=iso-8859-1",
                "Content-Transfer-Encoding: quoted-printable",
                body=b"Caf=E9 cr=E8me\r\n",
            ),
            "Café crème\n",
            id="latin1-quoted-printable",
        ),
        pytest.param(
            _raw(
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: base64",
                body=b"5pel5pys6Kqe44Gn44GZCg==\r\n",
            ),
            "日本語です\n",
            id="utf8-base64",
        ),
        pytest.param(
            _raw(
                "Content-Type: text/plain; charset=koi8-r",
                "Content-Transfer-Encoding: 8bit",
                body="Привет\r\n".encode("koi8-r"),
            ),
            "Привет\n",
            id="koi8-r-8bit",
        ),
    ],
)
def test_charsets_and_transfer_encodings(raw: bytes, text: str) -> None:
    parts = read_parts(raw)
    assert parts.text == text
    assert parts.problems == ()


def test_html_in_base64_inside_nested_mixed() -> None:
    raw = _raw(
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="outer"',
        body=(
            b"--outer\r\n"
            b'Content-Type: multipart/alternative; boundary="inner"\r\n\r\n'
            b"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain words\r\n"
            b"--inner\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nPGI+Ym9sZDwvYj4=\r\n"
            b"--inner--\r\n"
            b"--outer\r\nContent-Type: text/csv; name=a.csv\r\n"
            b"Content-Disposition: attachment; filename=a.csv\r\n\r\nx,y\r\n"
            b"--outer--\r\n"
        ),
    )
    parts = read_parts(raw)
    assert parts.text == "plain words"  # the CRLF before a boundary belongs to it
    assert parts.html == "<b>bold</b>"
    assert parts.attachments == (Attachment("a.csv", "text/csv", 3),)


@pytest.mark.parametrize(
    ("raw", "text", "problem"),
    [
        pytest.param(
            _raw("Content-Type: text/plain; charset=x-unknown", body=b"caf\xc3\xa9 \xff\r\n"),
            "café \ufffd\n",
            "unknown charset (x-unknown)",
            id="unknown-charset",
        ),
        pytest.param(
            _raw("Content-Type: multipart/alternative", "Subject: x", body=b"hello\r\n"),
            "hello\n",
            "no boundary in multipart",
            id="multipart-without-boundary",
        ),
        pytest.param(
            b"\x00\xff garbage, no header at all",
            None,
            "missing header body separator",
            id="garbage",
        ),
        pytest.param(
            _raw(
                "Content-Type: text/plain",
                "Content-Transfer-Encoding: base64",
                body=b"aGVsbG8=!!!=\r\n",
            ),
            "hello",
            "invalid base64",
            id="broken-base64",
        ),
    ],
)
def test_malformed_messages_show_what_can_be_shown(
    raw: bytes, text: str | None, problem: str
) -> None:
    parts = read_parts(raw)
    if text is not None:
        assert parts.text is not None
        assert parts.text.startswith(text)
    assert any(problem in found for found in parts.problems), parts.problems


def test_a_message_without_text_or_html_lists_its_part() -> None:
    raw = _raw(
        "Content-Type: application/pdf",
        "Content-Transfer-Encoding: base64",
        body=b"JVBERi0xLjcK\r\n",
    )
    parts = read_parts(raw)
    assert (parts.text, parts.html) == (None, None)
    assert parts.attachments == (Attachment(None, "application/pdf", 9),)


def test_malformed_header_fields_are_still_shown() -> None:
    raw = _raw(
        "From: =?utf-8?q?=E9?= <@@@>",
        "To: ,,,<>",
        "Date: not a date",
        "Subject: a\x00b",
        "Content-Type: text/plain",
    )
    fields = dict(read_parts(raw).headers)
    assert fields["Date"] == "not a date"
    assert fields["Subject"] == "a\ufffdb"
    assert "From" in fields


def test_deep_nesting_and_many_parts_are_bounded() -> None:
    deep = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n'.encode()
        for n in range(MAX_DEPTH + 5)
    )
    assert any("nested deeper" in p for p in read_parts(deep + b"\r\nx\r\n").problems)
    many = _raw(
        'Content-Type: multipart/mixed; boundary="m"',
        body=b"".join(
            b"--m\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n"
            for _ in range(MAX_LISTED_PARTS + 5)
        )
        + b"--m--\r\n",
    )
    parts = read_parts(many)
    assert len(parts.attachments) == MAX_LISTED_PARTS
    assert any("not listed" in p for p in parts.problems)


def test_a_huge_body_is_cut_and_says_so() -> None:
    raw = _raw("Content-Type: text/plain", body=b"a" * (MAX_BODY_CHARS + 10))
    parts = read_parts(raw)
    assert parts.text is not None
    assert len(parts.text) == MAX_BODY_CHARS
    assert any("cut at" in p for p in parts.problems)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    read_parts(raw)


@given(
    st.lists(
        st.sampled_from(
            [
                b"Content-Type: multipart/mixed; boundary=x\r\n",
                b"Content-Type: text/html; charset=nope\r\n",
                b"Content-Transfer-Encoding: base64\r\n",
                b"Content-Transfer-Encoding: quoted-printable\r\n",
                b"Subject: =?utf-8?b?////?=\r\n",
                b"\r\n",
                b"--x\r\n",
                b"--x--\r\n",
                b"=E9=\r\n",
                b"<script>x</script>\r\n",
            ]
        ),
        max_size=30,
    )
)
def test_mime_shaped_noise_never_raises(lines: list[bytes]) -> None:
    read_parts(b"".join(lines))
