"""PostfixSmtpd against smtplib: STARTTLS with a test certificate, discard and relay modes."""

from __future__ import annotations

import asyncio

from tests.integration.support.stdlib_client import ehlo_keywords, send
from tests.support.certs import TestPki
from tests.support.fixtures import PostfixFactory, SmtpSinkFactory

POSTFIX_HOST = "127.0.0.46"
RELAY_HOST = "127.0.0.47"
RELAY_SINK_HOST = "127.0.0.48"

MESSAGE = b"Subject: via postfix\r\nMessage-ID: <1@sender.test>\r\n\r\nbody \xc3\xa9\r\n"


async def test_postfix_accepts_over_starttls(postfix_smtpd: PostfixFactory, pki: TestPki) -> None:
    postfix = postfix_smtpd(POSTFIX_HOST, tls=pki.cert_files(POSTFIX_HOST))
    keywords = await asyncio.to_thread(ehlo_keywords, POSTFIX_HOST)
    assert {"STARTTLS", "PIPELINING", "8BITMIME", "SMTPUTF8"} <= keywords
    before = postfix.delivered_count()
    await asyncio.to_thread(
        send, POSTFIX_HOST, "a@sender.test", ["b@x.test"], MESSAGE, tls_context=pki.client_context()
    )
    await postfix.wait_delivered(before + 1)
    assert "TLS connection established from" in postfix.maillog()


async def test_postfix_relays_bytes_to_a_sink(
    postfix_smtpd: PostfixFactory, smtp_sink: SmtpSinkFactory
) -> None:
    sink = await smtp_sink(RELAY_SINK_HOST, capture=True)
    postfix = postfix_smtpd(RELAY_HOST, relay_to=(RELAY_SINK_HOST, 25))
    before = postfix.delivered_count()
    await asyncio.to_thread(send, RELAY_HOST, "a@sender.test", ["b@x.test"], MESSAGE)
    await postfix.wait_delivered(before + 1)
    [capture] = sink.captured_messages()
    assert capture.rcpt_args[0].startswith("<b@x.test>")
    assert capture.data.endswith(MESSAGE.replace(b"\r\n", b"\n"))


async def test_postfix_main_cf_override_limits_recipients(postfix_smtpd: PostfixFactory) -> None:
    postfix = postfix_smtpd(POSTFIX_HOST, main_cf={"smtpd_recipient_limit": "2"})
    before = postfix.delivered_count()
    refused = await asyncio.to_thread(
        send, POSTFIX_HOST, "a@sender.test", ["b@x.test", "c@x.test", "d@x.test"], MESSAGE
    )
    assert refused == {"d@x.test": (452, b"4.5.3 Error: too many recipients")}
    assert await postfix.wait_delivered(before + 2) == before + 2
