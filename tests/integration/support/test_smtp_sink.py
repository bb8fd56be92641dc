"""SmtpSink (Postfix's smtp-sink) against smtplib: capture and option-driven rejections."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from tests.integration.support.stdlib_client import ehlo_keywords, send
from tests.support.fixtures import SmtpSinkFactory
from tests.support.smtp_sink import parse_capture

SINK_HOST = "127.0.0.44"
REJECTING_HOST = "127.0.0.45"

MESSAGE = b"Subject: sink\r\n\r\n.leading dot\r\nbody\r\n"


async def test_sink_captures_the_transaction(smtp_sink: SmtpSinkFactory) -> None:
    sink = await smtp_sink(SINK_HOST, capture=True)
    await asyncio.to_thread(send, SINK_HOST, "a@sender.test", ["b@x.test", "c@x.test"], MESSAGE)
    [capture] = sink.captured_messages()
    assert capture.client_addr == "127.0.0.1"
    assert capture.helo == "client.test"
    assert capture.mail_args.startswith("<a@sender.test>")
    assert capture.rcpt_args == ("<b@x.test>", "<c@x.test>")
    # smtp-sink stores LF line ends and undoes the dot-stuffing.
    assert capture.data == MESSAGE.replace(b"\r\n", b"\n")


@pytest.mark.parametrize(
    ("options", "code"),
    [
        pytest.param(["-f", "RCPT"], 500, id="hard-reject"),
        pytest.param(["-r", "RCPT"], 450, id="soft-reject"),
        pytest.param(["-B", "550 5.1.1 no such user", "-f", "RCPT"], 550, id="custom-reply"),
    ],
)
async def test_sink_rejects_rcpt_by_option(
    smtp_sink: SmtpSinkFactory, options: list[str], code: int
) -> None:
    await smtp_sink(REJECTING_HOST, options=options)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(send, REJECTING_HOST, "a@sender.test", ["b@x.test"], MESSAGE)
    assert refused.value.recipients["b@x.test"][0] == code


async def test_sink_drops_connection_after_data_dot(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink(REJECTING_HOST, options=["-q", "."])
    with pytest.raises(smtplib.SMTPServerDisconnected):
        await asyncio.to_thread(send, REJECTING_HOST, "a@sender.test", ["b@x.test"], MESSAGE)


async def test_sink_hides_pipelining_with_p(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink(REJECTING_HOST, options=["-p"])
    keywords = await asyncio.to_thread(ehlo_keywords, REJECTING_HOST)
    assert "PIPELINING" not in keywords
    assert "8BITMIME" in keywords


def test_parse_capture_rejects_a_file_without_sink_headers() -> None:
    with pytest.raises(ValueError, match="Received"):
        parse_capture(b"Subject: x\n\nbody\n")
