"""SmtpConnection against aiosmtpd receivers: plaintext, STARTTLS in both modes, bad certificates,
partial RCPT refusal, reuse with RSET, a server that closes an idle connection."""

from __future__ import annotations

import asyncio
import ssl
import warnings

import pytest

from postillon.errors import ConnectError, TlsError
from postillon.transport import SmtpConnection, TlsMode
from postillon.transport.errors import ConnectionLostError, TlsHandshakeError, TlsRequiredError
from tests.integration.transport.client_defaults import HELO, MESSAGE, TIMEOUTS
from tests.support.certs import CertKind, TestPki
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(30)

MX = "mx.test"


async def test_plaintext_delivery_without_starttls(smtp_receiver: ReceiverFactory) -> None:
    rx = await smtp_receiver("127.0.0.11")
    conn = await SmtpConnection.open("127.0.0.11", helo_name=HELO, timeouts=TIMEOUTS)
    assert not conn.tls.used
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert result.delivered == ("b@dst.test",)
    [message] = await rx.wait_for(1)
    assert message.mail_from == "a@src.test"
    assert message.rcpt_tos == ("b@dst.test",)
    assert message.data == MESSAGE
    assert message.tls_version is None


async def test_opportunistic_starttls_with_valid_certificate_reports_verified(
    smtp_receiver: ReceiverFactory, pki: TestPki
) -> None:
    rx = await smtp_receiver("127.0.0.12", tls_context=pki.server_context(MX))
    conn = await SmtpConnection.open(
        "127.0.0.12", helo_name=HELO, timeouts=TIMEOUTS, server_name=MX, ca_file=pki.ca_pem_path
    )
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert conn.tls.used
    assert conn.tls.verified
    assert conn.tls.version in ("TLSv1.2", "TLSv1.3")
    assert conn.tls.cipher
    assert result.delivered == ("b@dst.test",)
    [message] = await rx.wait_for(1)
    assert message.tls_version == conn.tls.version
    text = conn.transcript.render()
    assert text.count("C: EHLO") == 2
    assert "C: STARTTLS" in text


async def test_verified_starttls_with_valid_certificate(
    smtp_receiver: ReceiverFactory, pki: TestPki
) -> None:
    rx = await smtp_receiver("127.0.0.12", tls_context=pki.server_context(MX))
    conn = await SmtpConnection.open(
        "127.0.0.12",
        helo_name=HELO,
        timeouts=TIMEOUTS,
        tls_mode=TlsMode.VERIFIED,
        server_name=MX,
        ca_file=pki.ca_pem_path,
    )
    await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert conn.tls.verified
    assert conn.tls.reason is None
    await rx.wait_for(1)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        pytest.param("expired", "expired|not valid at validation time", id="expired"),
        pytest.param("wrong_name", "subjectAltName|name|match", id="wrong-name"),
        pytest.param("self_signed", "issuer|self|trust|signed", id="self-signed"),
    ],
)
async def test_bad_certificate_opportunistic_delivers_and_reports_why(
    smtp_receiver: ReceiverFactory, pki: TestPki, kind: CertKind, reason: str
) -> None:
    rx = await smtp_receiver("127.0.0.13", tls_context=pki.server_context(MX, kind))
    conn = await SmtpConnection.open(
        "127.0.0.13", helo_name=HELO, timeouts=TIMEOUTS, server_name=MX, ca_file=pki.ca_pem_path
    )
    await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert conn.tls.used
    assert not conn.tls.verified
    assert conn.tls.reason is not None
    assert any(word.lower() in conn.tls.reason.lower() for word in reason.split("|")), conn.tls
    [message] = await rx.wait_for(1)
    assert message.tls_version is not None


@pytest.mark.parametrize("kind", ["expired", "wrong_name", "self_signed"])
async def test_bad_certificate_verified_never_sends(
    smtp_receiver: ReceiverFactory, pki: TestPki, kind: CertKind
) -> None:
    rx = await smtp_receiver("127.0.0.14", tls_context=pki.server_context(MX, kind))
    with pytest.raises(TlsError, match="did not verify") as info:
        await SmtpConnection.open(
            "127.0.0.14",
            helo_name=HELO,
            timeouts=TIMEOUTS,
            tls_mode=TlsMode.VERIFIED,
            server_name=MX,
            ca_file=pki.ca_pem_path,
        )
    assert info.value.is_transient
    assert rx.messages == []


async def test_verified_mode_refuses_a_server_without_starttls(
    smtp_receiver: ReceiverFactory,
) -> None:
    rx = await smtp_receiver("127.0.0.11")
    with pytest.raises(TlsRequiredError, match="not offered"):
        await SmtpConnection.open(
            "127.0.0.11", helo_name=HELO, timeouts=TIMEOUTS, tls_mode=TlsMode.VERIFIED
        )
    assert rx.messages == []


async def test_partial_rcpt_refusal_still_delivers_to_the_others(
    smtp_receiver: ReceiverFactory,
) -> None:
    def refuse_bob(address: str) -> str | None:
        return "550 5.1.1 no such user" if address.startswith("bob@") else None

    rx = await smtp_receiver("127.0.0.15", rcpt_handler=refuse_bob)
    conn = await SmtpConnection.open("127.0.0.15", helo_name=HELO, timeouts=TIMEOUTS)
    rcpts = ["ann@dst.test", "bob@dst.test", "cy@dst.test"]
    result = await conn.send_transaction("a@src.test", rcpts, MESSAGE)
    await conn.close()
    assert result.delivered == ("ann@dst.test", "cy@dst.test")
    bob = result.reply_for("bob@dst.test")
    assert bob.code == 550
    assert bob.enhanced is not None
    assert str(bob.enhanced) == "5.1.1"
    [message] = await rx.wait_for(1)
    assert message.rcpt_tos == ("ann@dst.test", "cy@dst.test")


async def test_all_rcpts_refused_sends_no_message(smtp_receiver: ReceiverFactory) -> None:
    rx = await smtp_receiver("127.0.0.15", rcpt_handler=lambda _: "550 5.1.1 no")
    conn = await SmtpConnection.open("127.0.0.15", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["x@dst.test"], MESSAGE)
    assert result.delivered == ()
    assert result.data_reply is None
    assert conn.is_usable
    # The connection is clean afterwards: the next transaction goes through.
    rx.rcpt_handler = None
    second = await conn.send_transaction("a@src.test", ["y@dst.test"], MESSAGE)
    await conn.close()
    assert second.delivered == ("y@dst.test",)
    assert [m.rcpt_tos for m in rx.messages] == [("y@dst.test",)]


async def test_connection_reuse_with_rset(smtp_receiver: ReceiverFactory) -> None:
    rx = await smtp_receiver("127.0.0.16")
    conn = await SmtpConnection.open("127.0.0.16", helo_name=HELO, timeouts=TIMEOUTS)
    for n in range(3):
        await conn.reset()
        result = await conn.send_transaction("a@src.test", [f"r{n}@dst.test"], MESSAGE)
        assert result.delivered == (f"r{n}@dst.test",)
    await conn.close()
    assert rx.connections == 1
    assert len(await rx.wait_for(3)) == 3
    assert conn.transcript.render().count("C: RSET") == 3
    assert "C: QUIT" in conn.transcript.render()


async def test_server_closing_an_idle_connection_is_detected(
    smtp_receiver: ReceiverFactory,
) -> None:
    rx = await smtp_receiver("127.0.0.17")
    conn = await SmtpConnection.open("127.0.0.17", helo_name=HELO, timeouts=TIMEOUTS)
    await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    usable_before = conn.is_usable
    await rx.stop()  # closes every session, as a server's idle timeout would
    for _ in range(500):  # the close reaches us within a few loop turns; 5 s at most
        await asyncio.sleep(0.01)
        if not conn.is_usable:
            break
    assert usable_before
    assert not conn.is_usable
    with pytest.raises(ConnectionLostError, match="idle") as info:
        await conn.reset()
    assert info.value.is_transient
    await conn.close()


def _tls_10_only_context(pki: TestPki) -> ssl.SSLContext:
    """A server context whose handshake any client insisting on TLS 1.2+ fails."""
    context = pki.server_context(MX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point here
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = ssl.TLSVersion.TLSv1
    return context


async def test_opportunistic_handshake_failure_falls_back_to_plaintext(
    smtp_receiver: ReceiverFactory, pki: TestPki
) -> None:
    rx = await smtp_receiver("127.0.0.18", tls_context=_tls_10_only_context(pki))
    conn = await SmtpConnection.open("127.0.0.18", helo_name=HELO, timeouts=TIMEOUTS)
    result = await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    assert not conn.tls.used
    assert conn.tls.reason is not None
    assert "handshake failed" in conn.tls.reason
    assert "without TLS" in conn.tls.reason
    assert result.delivered == ("b@dst.test",)
    assert rx.connections == 2
    [message] = await rx.wait_for(1)
    assert message.tls_version is None


@pytest.mark.parametrize(
    ("mode", "fallback"),
    [
        pytest.param(TlsMode.VERIFIED, True, id="verified"),
        pytest.param(TlsMode.OPPORTUNISTIC, False, id="opportunistic-no-fallback"),
    ],
)
async def test_handshake_failure_without_fallback_raises(
    smtp_receiver: ReceiverFactory, pki: TestPki, mode: TlsMode, fallback: bool
) -> None:
    rx = await smtp_receiver("127.0.0.18", tls_context=_tls_10_only_context(pki))
    with pytest.raises(TlsHandshakeError, match="handshake failed"):
        await SmtpConnection.open(
            "127.0.0.18",
            helo_name=HELO,
            timeouts=TIMEOUTS,
            tls_mode=mode,
            server_name=MX,
            ca_file=pki.ca_pem_path,
            plaintext_fallback=fallback,
        )
    assert rx.connections == 1
    assert rx.messages == []


async def test_source_address_is_bound(smtp_receiver: ReceiverFactory) -> None:
    rx = await smtp_receiver("127.0.0.11")
    conn = await SmtpConnection.open(
        "127.0.0.11", helo_name=HELO, timeouts=TIMEOUTS, source_address="127.0.0.29"
    )
    await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    await conn.close()
    [message] = await rx.wait_for(1)
    assert message.peer == "127.0.0.29"


async def test_connection_refused_is_a_temporary_connect_error() -> None:
    with pytest.raises(ConnectError) as info:
        await SmtpConnection.open("127.0.0.19", helo_name=HELO, timeouts=TIMEOUTS)
    assert info.value.is_transient


async def test_closed_connection_is_unusable_and_refuses_transactions(
    smtp_receiver: ReceiverFactory,
) -> None:
    await smtp_receiver("127.0.0.11")
    conn = await SmtpConnection.open("127.0.0.11", helo_name=HELO, timeouts=TIMEOUTS)
    await conn.close()
    await conn.close()  # twice is harmless
    assert not conn.is_usable
    with pytest.raises(ConnectionLostError):
        await conn.send_transaction("a@src.test", ["b@dst.test"], MESSAGE)
    assert conn.transcript.render().count("C: QUIT") == 1
