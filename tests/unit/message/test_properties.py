"""Properties of composition for arbitrary text, html, subject, names and filenames: CRLF
line ends only, no line over 998 octets, and parsing back gives the same content."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postillon.message.model import Attachment, NamedAddress, OutgoingEmail
from postillon.message.transfer import normalize_newlines
from tests.unit.message.wire import assert_wire_safe, build, content, display_name, parse

BASE = OutgoingEmail(from_="s@sender.example", to=("a@rcpt.example",), text="x")

# Bodies: any valid Unicode (no lone surrogates), with lone CR/LF, NUL, long lines.
_chars = st.characters(blacklist_categories=["Cs"])
bodies = st.one_of(
    st.text(_chars, min_size=1),
    st.text(st.sampled_from(["a", " ", "\t", "\r", "\n", "é", "=", ".", "-", "€"]), min_size=1),
    st.builds(
        lambda n, c, tail: c * n + tail,
        st.integers(990, 3000),
        st.sampled_from("aé "),
        st.text(_chars),
    ),
)
# One-line fields: valid Unicode without controls (Cc), line or paragraph separators.
_line_chars = st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"])
lines = st.one_of(
    st.text(_line_chars, max_size=300),
    st.lists(
        st.sampled_from(["a", " ", "=?", "?=", "\t", "ü", "語", '"', "\\", "x" * 200]), max_size=40
    ).map("".join),
)
settings_ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expected_body(text: str) -> str:
    return normalize_newlines(text).replace("\r\n", "\n")


@settings_
@given(text=bodies, html=bodies)
def test_bodies_survive_and_lines_are_safe(text: str, html: str) -> None:
    composed = build(replace(BASE, text=text, html=html))
    assert_wire_safe(composed.data)
    parsed = parse(composed.data)
    plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None
    assert rich is not None
    assert content(plain) == expected_body(text)
    assert content(rich) == expected_body(html)


@settings_
@given(text=bodies)
def test_single_part_body_survives_up_to_a_final_line_end(text: str) -> None:
    composed = build(replace(BASE, text=text))
    assert_wire_safe(composed.data)
    got, want = content(parse(composed.data)), expected_body(text)
    assert got in (want, want + "\n")


@settings_
@given(subject=lines.filter(lambda s: len(s) <= 998), name=lines, filename=lines)
def test_header_values_survive(subject: str, name: str, filename: str) -> None:
    name = name[:256]
    filename = filename.strip() or "f"
    message = replace(
        BASE,
        subject=subject,
        from_=NamedAddress("s@sender.example", name),
        headers=(("X-Free", subject),) if subject else (),
        attachments=(Attachment(b"data", filename[:255]),),
    )
    composed = build(message)
    assert_wire_safe(composed.data)
    assert composed.data.isascii()
    parsed = parse(composed.data)
    assert str(parsed["Subject"]) == subject
    if subject:
        assert str(parsed["X-Free"]) == subject
    assert display_name(composed.data, "From") == name.strip()
    [attachment] = parsed.iter_attachments()
    # get_filename() strips outer quotes from the decoded value; the parameter itself is exact.
    assert attachment["Content-Disposition"].params["filename"] == filename[:255]
    assert attachment["Content-Type"].params["name"] == filename[:255]
