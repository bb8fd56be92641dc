"""A client's own MIME made ready to sign: only what must change changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.message.errors import InvalidMessageError
from postillon.message.submitted import Trace, prepare_submitted, received_field

NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def prepare(data: bytes, max_octets: int = 10_000) -> bytes:
    return prepare_submitted(
        data, now=NOW, random_bytes=lambda n: b"\x01" * n, max_octets=max_octets
    ).data


def test_adds_message_id_and_date_and_keeps_the_rest() -> None:
    sent = b"From: a@x.test\r\nSubject:  odd   spacing \r\nX-A: 1\r\n\r\nbody\r\n"
    result = prepare_submitted(sent, now=NOW, random_bytes=lambda n: b"\x01" * n, max_octets=999)
    assert result.data == (
        b"Message-ID: <" + b"01" * 16 + b"@x.test>\r\n"
        b"Date: Sat, 05 Dec 2026 20:00:00 +0000\r\n" + sent
    )
    assert result.message_id == "<" + "01" * 16 + "@x.test>"
    assert result.subject == "odd   spacing"
    assert result.from_.addr_spec == "a@x.test"


def test_keeps_an_existing_message_id_and_date() -> None:
    sent = (
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m@x.test>\r\n"
        b"From: a@x.test\r\n\r\nb\r\n"
    )
    assert prepare(sent) == sent


def test_removes_every_bcc_field_with_its_continuation_lines() -> None:
    sent = (
        b"Date: d\r\nMessage-ID: <m@x>\r\nFrom: a@x.test\r\nBcc: one@y.test,\r\n two@y.test\r\n"
        b"To: b@y.test\r\nBCC: three@y.test\r\n\r\nBcc: in the body stays\r\n"
    )
    assert prepare(sent) == (
        b"Date: d\r\nMessage-ID: <m@x>\r\nFrom: a@x.test\r\nTo: b@y.test\r\n\r\n"
        b"Bcc: in the body stays\r\n"
    )


def test_every_line_end_becomes_crlf() -> None:
    sent = b"Date: d\nMessage-ID: <m@x>\rFrom: a@x.test\r\n\nline1\rline2\nline3"
    assert prepare(sent) == (
        b"Date: d\r\nMessage-ID: <m@x>\r\nFrom: a@x.test\r\n\r\nline1\r\nline2\r\nline3"
    )


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        pytest.param(b"To: b@y.test\r\n\r\nx\r\n", "header.from", id="no-from"),
        pytest.param(b"From: a@x.test\r\nFrom: c@x.test\r\n\r\n", "header.from", id="two-from"),
        pytest.param(b"From: a@x.test, c@x.test\r\n\r\n", "header.from", id="two-mailboxes"),
        pytest.param(b"From: not an address\r\n\r\n", "header.from", id="no-mailbox"),
        pytest.param(b"From a@x.test Sat Dec 5\r\nFrom: a@x.test\r\n\r\n", "header", id="mbox"),
        pytest.param(b"From: a@x.test\r\n\r\n" + b"x" * 999 + b"\r\n", "message", id="long-line"),
    ],
)
def test_refusals_name_the_field(sent: bytes, field: str) -> None:
    with pytest.raises(InvalidMessageError) as raised:
        prepare(sent)
    assert raised.value.problems[0].field == field


def test_size_is_checked_after_the_changes() -> None:
    with pytest.raises(InvalidMessageError) as raised:
        prepare(b"From: a@x.test\r\n\r\n" + b"x\r\n" * 100, max_octets=200)
    assert raised.value.is_too_large


def test_encoded_subject_is_decoded_for_listings() -> None:
    sent = b"From: a@x.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n"
    result = prepare_submitted(sent, now=NOW, random_bytes=bytes, max_octets=999)
    assert result.subject == "Grüße"


@pytest.mark.parametrize(
    ("helo", "shown"),
    [
        pytest.param("client.example", "client.example", id="host"),
        pytest.param("[192.0.2.7]", "[192.0.2.7]", id="literal"),
        pytest.param("evil);by(x", "unknown", id="structure"),
        pytest.param("x" * 300, "unknown", id="long"),
    ],
)
def test_received_field_is_folded_and_shows_only_safe_names(helo: str, shown: str) -> None:
    trace = Trace(helo, "192.0.2.7", "smtp.example", "TLSv1.3 with cipher X")
    assert (
        received_field(trace, NOW)
        == (
            f"Received: from {shown} ([192.0.2.7])\r\n\tby smtp.example\r\n"
            "\t(using TLSv1.3 with cipher X)\r\n\twith ESMTPSA; Sat, 05 Dec 2026 20:00:00 +0000\r\n"
        ).encode()
    )


def test_received_goes_first() -> None:
    sent = b"From: a@x.test\r\nDate: d\r\nMessage-ID: <m@x>\r\n\r\nb\r\n"
    trace = Trace("c.example", "192.0.2.7", "smtp.example")
    result = prepare_submitted(sent, now=NOW, random_bytes=bytes, max_octets=999, trace=trace).data
    assert result == received_field(trace, NOW) + sent
