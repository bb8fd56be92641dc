"""Command lines on the wire, and refusal of arguments that could inject commands."""

from __future__ import annotations

import pytest

from postillon.smtp import commands
from postillon.smtp.errors import InvalidArgumentError


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(commands.ehlo("mta.test"), b"EHLO mta.test\r\n", id="ehlo"),
        pytest.param(commands.helo("mta.test"), b"HELO mta.test\r\n", id="helo"),
        pytest.param(commands.starttls(), b"STARTTLS\r\n", id="starttls"),
        pytest.param(commands.mail_from(""), b"MAIL FROM:<>\r\n", id="null-sender"),
        pytest.param(
            commands.mail_from("a@b.test", size=42, body_8bit=True, smtputf8=True),
            b"MAIL FROM:<a@b.test> SIZE=42 BODY=8BITMIME SMTPUTF8\r\n",
            id="mail-params",
        ),
        pytest.param(commands.rcpt_to("c@d.test"), b"RCPT TO:<c@d.test>\r\n", id="rcpt"),
        pytest.param(
            commands.rcpt_to("jörg@bücher.test"),
            "RCPT TO:<jörg@bücher.test>\r\n".encode(),
            id="utf8-rcpt",
        ),
        pytest.param(commands.data(), b"DATA\r\n", id="data"),
        pytest.param(commands.rset(), b"RSET\r\n", id="rset"),
        pytest.param(commands.noop(), b"NOOP\r\n", id="noop"),
        pytest.param(commands.quit_(), b"QUIT\r\n", id="quit"),
    ],
)
def test_wire_form(line: bytes, expected: bytes) -> None:
    assert line == expected


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("a@b.test\r\nRCPT TO:<x@y.test>", id="crlf"),
        pytest.param("a@b.test\nDATA", id="lf"),
        pytest.param("a@b.test\rDATA", id="cr"),
        pytest.param("a\x00@b.test", id="nul"),
        pytest.param("a@b.test> SIZE=1", id="bracket-param-injection"),
        pytest.param("a b@c.test", id="space"),
        pytest.param("a\t@c.test", id="tab"),
        pytest.param("x" * 300 + "@b.test", id="too-long"),
    ],
)
def test_refuses_dangerous_addresses(address: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        commands.rcpt_to(address)
    assert not info.value.is_transient
    with pytest.raises(InvalidArgumentError):
        commands.mail_from(address)


@pytest.mark.parametrize(
    "name",
    [pytest.param("", id="empty"), pytest.param("a\r\nb", id="crlf"), pytest.param("a b", id="sp")],
)
def test_refuses_bad_ehlo_names(name: str) -> None:
    with pytest.raises(InvalidArgumentError):
        commands.ehlo(name)


def test_refuses_empty_rcpt_and_negative_size() -> None:
    with pytest.raises(InvalidArgumentError):
        commands.rcpt_to("")
    with pytest.raises(InvalidArgumentError):
        commands.mail_from("a@b.test", size=-1)
