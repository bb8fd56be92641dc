"""The server state machine driven by bytes: commands, limits, AUTH, STARTTLS, smuggling."""

from __future__ import annotations

import base64

import pytest

from postillon.smtp import server_reply as r
from postillon.smtp.sasl import Mechanism
from postillon.smtp.server_events import (
    Authenticate,
    Close,
    Decision,
    Hello,
    MailFrom,
    RcptTo,
    StartTls,
)
from postillon.smtp.server_reply import ServerReply
from postillon.smtp.server_session import ServerConfig, ServerSession
from tests.unit.smtp.server_driver import codes, drive, messages

PLAIN_CONFIG = ServerConfig(hostname="mx.test", max_message_octets=1000)
SUBMISSION = ServerConfig(
    hostname="sub.test",
    max_message_octets=1000,
    max_recipients=3,
    tls_available=True,
    auth_mechanisms=(Mechanism.PLAIN, Mechanism.LOGIN),
    auth_required=True,
)
TXN = b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"


def started(config: ServerConfig = PLAIN_CONFIG, *, tls: bool = False) -> ServerSession:
    session = ServerSession(config, tls_active=tls)
    assert session.data_to_send() == f"220 {config.hostname} ESMTP\r\n".encode()
    return session


def test_ehlo_lists_extensions_and_a_pipelined_transaction_is_answered_in_order() -> None:
    session = started()
    out, _ = drive(session, b"EHLO c.test\r\n")
    assert out.startswith(b"250-mx.test hello c.test\r\n")
    assert b"250-PIPELINING\r\n" in out
    assert b"250-SIZE 1000\r\n" in out
    assert b"STARTTLS" not in out  # no certificate: not offered
    out, events = drive(session, TXN + b"Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n")
    assert codes(out) == [250, 250, 354, 250, 221]
    [message] = messages(events)
    assert message.data == b"Subject: x\r\n\r\n.dot\r\n"
    assert message.envelope.mail_from.address == "a@x.test"
    assert [p.address for p in message.envelope.rcpt_tos] == ["b@y.test"]
    assert isinstance(events[-1], Close)


@pytest.mark.parametrize(
    "smuggled",
    [
        pytest.param(b"\n.\r\n", id="lf-dot-crlf"),
        pytest.param(b"\r.\r\n", id="cr-dot-crlf"),
        pytest.param(b"\r\n.\r", id="crlf-dot-cr"),
        pytest.param(b"\n.\n", id="lf-dot-lf"),
        pytest.param(b"\r\n.\n", id="crlf-dot-lf"),
        pytest.param(b"\r.\r", id="cr-dot-cr"),
        pytest.param(b"\n..\r\n", id="lf-dotdot-crlf"),
    ],
)
def test_only_crlf_dot_crlf_ends_data(smuggled: bytes) -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n")
    second = b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@y.test>\r\nDATA\r\nsmuggled\r\n"
    out, events = drive(session, TXN + b"Subject: x\r\n\r\nbody" + smuggled + second + b".\r\n")
    # One real end of data: one message, holding the would-be second transaction as text.
    [message] = messages(events)
    assert codes(out) == [250, 250, 354, 250]
    assert b"MAIL FROM:<evil@x.test>" in message.data
    assert not any(isinstance(e, MailFrom) and "evil" in e.path.address for e in events)


def test_data_split_across_reads_at_every_offset_ends_once() -> None:
    body = b"a\r\n.\r\n"
    for cut in range(1, len(body)):
        session = started()
        drive(session, b"EHLO c.test\r\n" + TXN)
        _, first = drive(session, body[:cut])
        _out, second = drive(session, body[cut:])
        assert len(messages(first + second)) == 1, cut
        assert messages(first + second)[0].data == b"a\r\n"


def test_dots_after_bare_lf_are_unstuffed_like_smtplib_sends_them() -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n")
    _, events = drive(session, TXN + b"a\n..b\n.\r\n.\r\n")
    assert messages(events)[0].data == b"a\n.b\n\r\n"


def test_empty_message_and_leading_dot_line() -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n")
    _, events = drive(session, TXN + b".\r\n")
    assert messages(events)[0].data == b""
    _, events = drive(session, TXN + b"..x\r\n.\r\n")
    assert messages(events)[0].data == b".x\r\n"


def test_long_command_line_is_refused_and_the_session_goes_on() -> None:
    session = started()
    out, _ = drive(session, b"EHLO c.test\r\nNOOP " + b"x" * 600 + b"\r\nNOOP\r\n")
    assert codes(out) == [250, 500, 250]
    assert b"500 5.5.6" in out
    # 512 octets with CRLF is the limit; exactly 512 is fine.
    out, _ = drive(session, b"NOOP " + b"x" * 505 + b"\r\n")
    assert codes(out) == [250]
    out, _ = drive(session, b"NOOP " + b"x" * 506 + b"\r\n")
    assert codes(out) == [500]


def test_long_line_arriving_in_pieces_is_never_buffered() -> None:
    session = started()
    written = b""
    for _ in range(20):
        written += drive(session, b"y" * 400)[0]
        assert session.buffered_octets < 512
    written += drive(session, b"\r\nNOOP\r\n")[0]
    assert codes(written) == [500, 250]


def test_too_many_errors_end_the_session_with_421() -> None:
    config = ServerConfig(hostname="mx.test", max_message_octets=100, max_errors=3)
    session = started(config)
    out, events = drive(session, b"BAD\r\nBAD\r\nBAD\r\nNOOP\r\nNOOP\r\n")
    assert codes(out) == [500, 500, 500, 421]
    assert isinstance(events[-1], Close)


def test_size_is_enforced_in_mail_and_in_data() -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n")
    out, _ = drive(session, b"MAIL FROM:<a@x.test> SIZE=1001\r\n")
    assert b"552 5.3.4" in out
    out, events = drive(session, TXN + b"x" * 1200 + b"\r\n.\r\nNOOP\r\n")
    assert codes(out) == [250, 250, 354, 552, 250]
    assert messages(events) == []


def test_over_size_body_is_not_held() -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n" + TXN)
    for _ in range(50):
        drive(session, b"z" * 999 + b"\r\n")
    out, _events = drive(session, b".\r\n")
    assert codes(out) == [552]


def test_dot_stuffed_lines_do_not_count_against_the_size() -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n" + TXN)
    body = b"..\r\n" * 330  # 1320 octets stuffed, 990 unstuffed
    out, events = drive(session, body + b".\r\n")
    assert codes(out) == [250]
    assert len(messages(events)[0].data) == 990


def test_recipient_limit_answers_452_without_counting_errors() -> None:
    session = started(SUBMISSION, tls=True)
    drive(session, b"EHLO c.test\r\n")
    auth = base64.b64encode(b"\0user\0pst_secret")
    drive(session, b"AUTH PLAIN " + auth + b"\r\n")
    rcpts = b"".join(b"RCPT TO:<r%d@y.test>\r\n" % i for i in range(20))
    out, _ = drive(session, b"MAIL FROM:<a@x.test>\r\n" + rcpts)
    assert codes(out) == [250] + [250] * 3 + [452] * 17
    assert session.errors == 0


def test_auth_needs_tls_and_transactions_need_auth() -> None:
    session = started(SUBMISSION)
    out, _ = drive(session, b"EHLO c.test\r\n")
    assert b"STARTTLS" in out
    assert b"AUTH" not in out
    out, events = drive(session, b"AUTH PLAIN AHUAcA==\r\nMAIL FROM:<a@x.test>\r\n")
    assert b"538 5.7.11" in out
    assert b"530 5.7.0" in out
    assert not any(isinstance(e, Authenticate | MailFrom) for e in events)


def test_auth_plain_and_login_produce_credentials() -> None:
    seen: list[Authenticate] = []

    def decide(event: Decision) -> ServerReply | None:
        if isinstance(event, Authenticate):
            seen.append(event)
            return None if event.credentials.password == "good" else r.AUTH_FAILED
        return None

    session = started(SUBMISSION, tls=True)
    out, _ = drive(session, b"EHLO c.test\r\n", decide)
    assert b"250-AUTH PLAIN LOGIN\r\n" in out or b"250 AUTH PLAIN LOGIN\r\n" in out
    out, _ = drive(session, b"AUTH LOGIN\r\n", decide)
    assert out == b"334 VXNlcm5hbWU6\r\n"
    out, _ = drive(session, base64.b64encode(b"ann") + b"\r\n", decide)
    assert out == b"334 UGFzc3dvcmQ6\r\n"
    out, _ = drive(session, base64.b64encode(b"bad") + b"\r\n", decide)
    assert codes(out) == [535]
    out, _ = drive(session, b"AUTH PLAIN\r\n", decide)
    assert out == b"334 \r\n"
    out, _ = drive(session, base64.b64encode(b"\0ann\0good") + b"\r\n", decide)
    assert codes(out) == [235]
    assert [(a.credentials.username, a.credentials.mechanism) for a in seen] == [
        ("ann", Mechanism.LOGIN),
        ("ann", Mechanism.PLAIN),
    ]
    assert "good" not in repr(seen[1])
    out, _ = drive(session, b"AUTH PLAIN AGEAYg==\r\n", decide)
    assert b"503" in out


def test_auth_cancel_and_garbage() -> None:
    session = started(SUBMISSION, tls=True)
    drive(session, b"EHLO c.test\r\n")
    out, _ = drive(session, b"AUTH PLAIN\r\n*\r\nAUTH PLAIN !!!\r\nAUTH CRAM-MD5\r\n")
    assert codes(out) == [334, 501, 501, 504]
    assert not session.authenticated


def test_starttls_discards_pipelined_commands() -> None:
    session = started(SUBMISSION)
    drive(session, b"EHLO c.test\r\n")
    out, events = drive(session, b"STARTTLS\r\nAUTH PLAIN AHUAcA==\r\nMAIL FROM:<a@x.test>\r\n")
    assert out == b"220 2.0.0 ready to start TLS\r\n"
    assert isinstance(events[-1], StartTls)
    session.tls_established()
    assert session.buffered_octets == 0
    out, events = drive(session, b"MAIL FROM:<a@x.test>\r\n")
    assert b"503 5.5.1" in out  # EHLO again first: the state was reset
    assert not any(isinstance(e, Authenticate) for e in events)


def test_transaction_ordering_errors() -> None:
    session = started()
    out, _ = drive(session, b"MAIL FROM:<a@x.test>\r\n")
    assert b"503" in out
    drive(session, b"EHLO c.test\r\n")
    out, _ = drive(session, b"RCPT TO:<b@y.test>\r\nDATA\r\n")
    assert codes(out) == [503, 503]
    out, _ = drive(session, b"MAIL FROM:<a@x.test>\r\nMAIL FROM:<a@x.test>\r\nRSET\r\n")
    assert codes(out) == [250, 503, 250]


def test_refused_recipients_then_pipelined_data_is_554_and_body_is_not_read() -> None:
    def decide(event: Decision) -> ServerReply | None:
        return r.reply(550, "5.7.1", "relay denied") if isinstance(event, RcptTo) else None

    session = started()
    drive(session, b"EHLO c.test\r\n")
    out, _ = drive(session, TXN, decide)
    assert codes(out) == [250, 550, 554]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(b"MAIL FROM:a@x.test", b"501", id="no-brackets"),
        pytest.param(b"MAIL FROM:<a@x.test> FOO=1", b"555", id="unknown-param"),
        pytest.param(b"MAIL FROM:<a@x.test> BODY=BINARYMIME", b"501", id="binarymime"),
        pytest.param(b"MAIL FROM:<a@x.test> SIZE=abc", b"501", id="bad-size"),
        pytest.param("MAIL FROM:<ü@x.test>".encode(), b"553 5.6.7", id="utf8-no-smtputf8"),
        pytest.param(b"MAIL FROM:<a\x01b@x.test>", b"501", id="control-char"),
        pytest.param(b"MAIL FROM:<" + b"a" * 65 + b"@x.test>", b"501", id="long-local"),
        pytest.param(b"MAIL FROM:<a@x.test>\rRCPT TO:<b@y>", b"500", id="bare-cr"),
        pytest.param(b"MAIL FROM:<a@x.test>\0", b"500", id="nul"),
        pytest.param(b"\xff\xfe", b"500", id="not-utf8"),
    ],
)
def test_bad_mail_commands(line: bytes, expected: bytes) -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n")
    out, events = drive(session, line + b"\r\n")
    assert out.startswith(expected)
    assert not any(isinstance(e, MailFrom) for e in events)


def test_utf8_and_null_sender_paths() -> None:
    session = started()
    drive(session, b"EHLO c.test\r\n")
    out, events = drive(session, "MAIL FROM:<ü@x.test> SMTPUTF8 BODY=8BITMIME\r\n".encode())
    assert codes(out) == [250]
    mail = next(e for e in events if isinstance(e, MailFrom))
    assert mail.path.address == "ü@x.test"
    drive(session, b"RSET\r\n")
    out, _ = drive(session, b"MAIL FROM: <>\r\nRCPT TO:<>\r\n")
    assert codes(out) == [250, 501]


def test_helo_is_plain_and_a_refused_ehlo_leaves_no_session() -> None:
    def refuse(event: Decision) -> ServerReply | None:
        return r.reply(550, "5.7.1", "go away") if isinstance(event, Hello) else None

    session = started()
    out, _ = drive(session, b"HELO c.test\r\n")
    assert out == b"250 mx.test hello c.test\r\n"
    session = started()
    out, _ = drive(session, b"EHLO c.test\r\nMAIL FROM:<a@x.test>\r\n", refuse)
    assert codes(out) == [550, 503]


def test_a_421_from_the_door_closes() -> None:
    session = started()
    out, events = drive(session, b"EHLO c.test\r\nNOOP\r\n", lambda e: r.SHUTTING_DOWN)
    assert codes(out) == [421]
    assert isinstance(events[-1], Close)
