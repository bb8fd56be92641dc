"""SmtpConnection against Postfix: smtpd (with and without STARTTLS) and smtp-sink, which
rejects, delays and drops commands on request."""

from __future__ import annotations

import pytest

from postillon.errors import TimeoutPhaseError
from postillon.smtp.errors import ServiceClosingError, UnsupportedMessageError
from postillon.transport import SmtpConnection, TlsMode
from postillon.transport.errors import ConnectionLostError
from tests.integration.transport.client_defaults import HELO, MESSAGE, TIMEOUTS
from tests.support.certs import TestPki
from tests.support.fixtures import PostfixFactory, SmtpSinkFactory

pytestmark = [pytest.mark.postfix, pytest.mark.timeout(60)]

POSTFIX_NAME = "postfix.test"
EIGHT_BIT = "From: a@src.test\r\nSubject: hi\r\n\r\ncafé\r\n".encode()


async def test_postfix_pipelined_delivery_and_reuse(postfix_smtpd: PostfixFactory) -> None:
    postfix = postfix_smtpd("127.0.0.20")
    conn = await SmtpConnection.open("127.0.0.20", helo_name=HELO, timeouts=TIMEOUTS)
    before = postfix.delivered_count()
    results = []
    for n in range(3):
        if n:
            await conn.reset()
        rcpts = [f"r{n}a@dst.test", f"r{n}b@dst.test"]
        results.append(await conn.send_transaction("a@src.test", rcpts, MESSAGE))
    results.append(await conn.send_transaction("a@src.test", ["u@dst.test"], EIGHT_BIT))
    await conn.close()
    assert [len(r.delivered) for r in results] == [2, 2, 2, 1]
    assert all(r.data_reply is not None and r.data_reply.enhanced for r in results)
    await postfix.wait_delivered(before + 7)
    text = conn.transcript.render()
    assert "PIPELINING" in text
    assert "BODY=8BITMIME" in text
    assert "C: MAIL FROM:<a@src.test> SIZE=" in text


async def test_postfix_starttls_verified(postfix_smtpd: PostfixFactory, pki: TestPki) -> None:
    postfix = postfix_smtpd("127.0.0.21", tls=pki.cert_files(POSTFIX_NAME))
    before = postfix.delivered_count()
    conn = await SmtpConnection.open(
        "127.0.0.21",
        helo_name=HELO,
        timeouts=TIMEOUTS,
        tls_mode=TlsMode.VERIFIED,
        server_name=POSTFIX_NAME,
        ca_file=pki.ca_pem_path,
    )
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert conn.tls.used
    assert conn.tls.verified
    assert result.delivered == ("b@dst.test",)
    await postfix.wait_delivered(before + 1)
    assert "TLS connection established" in postfix.maillog()


async def test_postfix_starttls_wrong_name_opportunistic_reports(
    postfix_smtpd: PostfixFactory, pki: TestPki
) -> None:
    postfix_smtpd("127.0.0.21", tls=pki.cert_files(POSTFIX_NAME))
    conn = await SmtpConnection.open(
        "127.0.0.21",
        helo_name=HELO,
        timeouts=TIMEOUTS,
        server_name="mx.other.test",
        ca_file=pki.ca_pem_path,
    )
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert conn.tls.used
    assert not conn.tls.verified
    assert conn.tls.reason is not None
    assert "subjectAltName" in conn.tls.reason
    assert result.delivered == ("b@dst.test",)


async def test_sink_capture_shows_dot_stuffing_and_size(smtp_sink: SmtpSinkFactory) -> None:
    sink = await smtp_sink("127.0.0.22", capture=True)
    message = b"Subject: x\r\n\r\n.one\n..two\rthree"
    conn = await SmtpConnection.open("127.0.0.22", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], message)
    await conn.close()
    assert result.delivered == ("b@dst.test",)
    [capture] = sink.captured_messages()
    assert capture.data == b"Subject: x\n\n.one\n..two\nthree\n"
    # smtp-sink does not announce SIZE, so none is declared (Postfix's smtpd test covers SIZE=).
    assert capture.mail_args == "<a@src.test>"


async def test_sink_rejecting_every_rcpt(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.23", options=["-f", "RCPT"])
    conn = await SmtpConnection.open("127.0.0.23", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["b@dst.test", "c@dst.test"], MESSAGE)
    assert conn.is_usable
    await conn.close()
    assert result.delivered == ()
    assert result.data_reply is None
    assert result.reply_for("c@dst.test").is_permanent
    assert "C: DATA" not in conn.transcript.render()


async def test_sink_temporarily_rejecting_mail(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.24", options=["-r", "MAIL"])
    conn = await SmtpConnection.open("127.0.0.24", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert not result.is_mail_accepted
    assert result.reply_for("b@dst.test").is_transient


async def test_sink_rejecting_the_final_dot(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.24", options=["-f", "."])
    conn = await SmtpConnection.open("127.0.0.24", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert result.delivered == ()
    assert result.data_reply is not None
    assert result.reply_for("b@dst.test") == result.data_reply
    assert result.data_reply.is_permanent


async def test_sink_delaying_rcpt_past_the_timeout(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.25", options=["-p", "-W", "RCPT:5"])
    conn = await SmtpConnection.open(
        "127.0.0.25", helo_name=HELO, timeouts=TIMEOUTS.model_copy(update={"rcpt_s": 0.5})
    )
    with pytest.raises(TimeoutPhaseError, match="rcpt") as info:
        await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    assert info.value.is_transient
    assert not conn.is_usable
    await conn.close()


async def test_sink_dropping_the_connection_after_data(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.26", options=["-q", "DATA"])
    conn = await SmtpConnection.open("127.0.0.26", helo_name=HELO, timeouts=TIMEOUTS)
    with pytest.raises(ConnectionLostError) as info:
        await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    assert info.value.is_transient
    assert not conn.is_usable
    await conn.close()


async def test_sink_421_after_rcpt(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.26", options=["-Q", "RCPT"])
    conn = await SmtpConnection.open("127.0.0.26", helo_name=HELO, timeouts=TIMEOUTS)
    with pytest.raises(ServiceClosingError) as info:
        await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    assert info.value.is_transient
    await conn.close()


async def test_sink_without_esmtp_gets_helo(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.27", options=["-e"])
    conn = await SmtpConnection.open("127.0.0.27", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert result.delivered == ("b@dst.test",)
    assert "C: HELO client.postillon.test" in conn.transcript.render()


async def test_sink_without_8bitmime_refuses_8bit_body(smtp_sink: SmtpSinkFactory) -> None:
    await smtp_sink("127.0.0.27", options=["-8"])
    conn = await SmtpConnection.open("127.0.0.27", helo_name=HELO, timeouts=TIMEOUTS)
    with pytest.raises(UnsupportedMessageError, match="8BITMIME") as info:
        await conn.send_transaction("a@src.test", ["b@dst.test"], EIGHT_BIT)
    assert not info.value.is_transient
    assert conn.is_usable  # nothing was sent; the connection serves the next message
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert result.delivered == ("b@dst.test",)


async def test_sink_without_pipelining_sends_one_command_at_a_time(
    smtp_sink: SmtpSinkFactory,
) -> None:
    await smtp_sink("127.0.0.28", options=["-p"])
    conn = await SmtpConnection.open("127.0.0.28", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["b@dst.test", "c@dst.test"], MESSAGE)
    await conn.close()
    assert result.delivered == ("b@dst.test", "c@dst.test")
    assert "PIPELINING" not in conn.transcript.render()


async def test_postfix_takes_a_utf8_recipient_with_smtputf8(postfix_smtpd: PostfixFactory) -> None:
    postfix = postfix_smtpd("127.0.0.20")
    before = postfix.delivered_count()
    conn = await SmtpConnection.open("127.0.0.20", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["jörg@dst.test"], MESSAGE)
    await conn.close()
    assert conn.extensions.smtputf8
    assert result.delivered == ("jörg@dst.test",)
    assert " SMTPUTF8" in conn.transcript.render()
    await postfix.wait_delivered(before + 1)
