"""Receiver (aiosmtpd) against smtplib: plain, STARTTLS, refusals, exact DATA bytes."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from tests.integration.support.stdlib_client import ehlo_keywords, send
from tests.support.certs import TestPki
from tests.support.fixtures import ReceiverFactory
from tests.support.receivers import ReceivedMessage, Receiver

PLAIN_HOST = "127.0.0.41"
TLS_HOST = "127.0.0.42"

# CRLF line ends, a line that needs dot-stuffing, and 8-bit UTF-8 in the body.
MESSAGE = (
    b"From: a@sender.test\r\nTo: b@rcpt.test\r\nSubject: hello\r\n\r\n"
    b".leading dot\r\ncaf\xc3\xa9\r\n"
)


async def test_plain_message_is_recorded_exactly(smtp_receiver: ReceiverFactory) -> None:
    rx = await smtp_receiver(PLAIN_HOST)
    refused = await asyncio.to_thread(
        send,
        PLAIN_HOST,
        "a@sender.test",
        ["b@rcpt.test", "c@rcpt.test"],
        MESSAGE,
        mail_options=["BODY=8BITMIME"],
    )
    assert refused == {}
    [message] = await rx.wait_for(1)
    assert message == ReceivedMessage(
        mail_from="a@sender.test",
        rcpt_tos=("b@rcpt.test", "c@rcpt.test"),
        data=MESSAGE,
        tls_version=None,
        peer="127.0.0.1",
    )
    assert rx.connections == 1


async def test_starttls_message_records_tls_version(
    smtp_receiver: ReceiverFactory, pki: TestPki
) -> None:
    rx = await smtp_receiver(TLS_HOST, tls_context=pki.server_context(TLS_HOST))
    await asyncio.to_thread(
        send, TLS_HOST, "a@sender.test", ["b@rcpt.test"], MESSAGE, tls_context=pki.client_context()
    )
    [message] = await rx.wait_for(1)
    assert message.tls_version == "TLSv1.3"
    assert message.data == MESSAGE


@pytest.mark.parametrize(
    ("with_tls", "expected"),
    [
        pytest.param(
            False,
            {"PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE"},
            id="plain",
        ),
        pytest.param(
            True,
            {"PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE", "STARTTLS"},
            id="tls",
        ),
    ],
)
async def test_ehlo_announces_extensions(
    smtp_receiver: ReceiverFactory, pki: TestPki, with_tls: bool, expected: set[str]
) -> None:
    tls_context = pki.server_context(PLAIN_HOST) if with_tls else None
    await smtp_receiver(PLAIN_HOST, tls_context=tls_context)
    keywords = await asyncio.to_thread(ehlo_keywords, PLAIN_HOST)
    assert keywords - {"HELP"} == expected


async def test_rcpt_handler_refuses_one_recipient(smtp_receiver: ReceiverFactory) -> None:
    def rcpt_handler(address: str) -> str | None:
        return "550 5.1.1 no such user" if address.startswith("gone@") else None

    rx = await smtp_receiver(PLAIN_HOST, rcpt_handler=rcpt_handler)
    refused = await asyncio.to_thread(
        send, PLAIN_HOST, "a@sender.test", ["gone@rcpt.test", "here@rcpt.test"], MESSAGE
    )
    assert refused == {"gone@rcpt.test": (550, b"5.1.1 no such user")}
    [message] = await rx.wait_for(1)
    assert message.rcpt_tos == ("here@rcpt.test",)


async def test_data_handler_refusal_is_not_recorded(smtp_receiver: ReceiverFactory) -> None:
    rx = await smtp_receiver(PLAIN_HOST, data_handler=lambda _: "452 4.3.1 try later")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await asyncio.to_thread(send, PLAIN_HOST, "a@sender.test", ["b@rcpt.test"], MESSAGE)
    assert refused.value.smtp_code == 452
    assert rx.messages == []
    assert [m.data for m in rx.refused] == [MESSAGE]


async def test_require_starttls_refuses_plain_mail(
    smtp_receiver: ReceiverFactory, pki: TestPki
) -> None:
    rx = await smtp_receiver(
        TLS_HOST, tls_context=pki.server_context(TLS_HOST), require_starttls=True
    )
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        await asyncio.to_thread(send, TLS_HOST, "a@sender.test", ["b@rcpt.test"], MESSAGE)
    assert refused.value.smtp_code == 530
    assert rx.messages == []


async def test_wait_for_times_out_naming_the_count() -> None:
    async with Receiver(PLAIN_HOST) as rx:
        with pytest.raises(TimeoutError, match="got 0 of 1"):
            await rx.wait_for(1, timeout_s=0.05)
    assert rx.connections == 0
