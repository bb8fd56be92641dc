"""The client state machine driven by byte transcripts: no sockets, no clocks."""

from __future__ import annotations

import pytest

from postillon.errors import PostillonError, ProtocolError
from postillon.smtp.errors import (
    InvalidArgumentError,
    PermanentReplyError,
    ServiceClosingError,
    SessionRefusedError,
    SessionStateError,
    UnsupportedMessageError,
)
from postillon.smtp.events import (
    Action,
    Closed,
    Idle,
    Phase,
    ReceiveMore,
    Send,
    SendBody,
    StartTls,
    TransactionDone,
)
from postillon.smtp.session import ClientSession, State
from postillon.smtp.transaction import Envelope
from postillon.smtp.transcript import Direction

GREETING = b"220 mx.test ESMTP\r\n"
EHLO_FULL = (
    b"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
    b"250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n"
)
EHLO_PLAIN = b"250-mx.test\r\n250 SIZE 1000\r\n"
MESSAGE = b"Subject: hi\r\n\r\nhello\r\n"


def step(session: ClientSession, incoming: bytes = b"") -> tuple[bytes, Action]:
    """Feed ``incoming``; collect what the client sends until it waits or needs the driver."""
    if incoming:
        session.receive_data(incoming)
    sent = b""
    while True:
        action = session.next_action()
        if isinstance(action, Send):
            sent += action.data
            continue
        return sent, action


def ready(ehlo: bytes = EHLO_FULL) -> ClientSession:
    session = ClientSession("client.test")
    sent, _ = step(session, GREETING)
    assert sent == b"EHLO client.test\r\n"
    sent, action = step(session, ehlo)
    assert sent == b""
    assert isinstance(action, Idle)
    assert session.is_ready
    return session


def envelope(*rcpts: str, message: bytes = MESSAGE, sender: str = "s@a.test") -> Envelope:
    return Envelope.for_message(sender, rcpts, message)


def test_first_action_is_to_read_the_greeting() -> None:
    session = ClientSession("client.test")
    action = session.next_action()
    assert isinstance(action, ReceiveMore)
    assert action.phase is Phase.GREETING


def test_greeting_then_ehlo_parses_extensions() -> None:
    session = ready()
    assert session.extensions is not None
    assert session.extensions.pipelining
    assert session.extensions.size_limit == 1000


def test_ehlo_refused_falls_back_to_helo() -> None:
    session = ClientSession("client.test")
    step(session, GREETING)
    sent, _ = step(session, b"502 5.5.2 what\r\n")
    assert sent == b"HELO client.test\r\n"
    sent, action = step(session, b"250 mx.test\r\n")
    assert isinstance(action, Idle)
    assert session.extensions is not None
    assert not session.extensions.pipelining


@pytest.mark.parametrize(
    ("greeting", "error"),
    [
        pytest.param(b"421 busy, go away\r\n", ServiceClosingError, id="421"),
        pytest.param(b"554 no service\r\n", SessionRefusedError, id="554"),
    ],
)
def test_refused_greeting_is_temporary(greeting: bytes, error: type[PostillonError]) -> None:
    session = ClientSession("client.test")
    with pytest.raises(error) as info:
        step(session, greeting)
    assert info.value.is_transient
    assert isinstance(info.value, SessionRefusedError)  # both mean: try the next MX
    assert session.state is State.CLOSED
    assert isinstance(session.next_action(), Closed)


def test_helo_refused_is_session_refused() -> None:
    session = ClientSession("client.test")
    step(session, GREETING)
    step(session, b"500 no\r\n")
    with pytest.raises(SessionRefusedError):
        step(session, b"550 not you either\r\n")


def test_starttls_discards_bytes_sent_before_the_handshake() -> None:
    session = ClientSession("client.test")
    step(session, GREETING)
    sent, _ = step(session, b"250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
    assert sent == b"STARTTLS\r\n"
    # The server injects a reply right behind its 220 (CVE-2011-0411).
    sent, action = step(session, b"220 go ahead\r\n250-mx.test\r\n250 SIZE 1\r\n")
    assert isinstance(action, StartTls)
    session.tls_established()
    sent, action = step(session)
    assert sent == b"EHLO client.test\r\n"
    assert isinstance(action, ReceiveMore)
    assert session.buffered_octets == 0
    sent, action = step(session, b"250-mx.test\r\n250 PIPELINING\r\n")
    assert isinstance(action, Idle)
    assert session.tls_active
    assert session.extensions is not None
    assert session.extensions.size_limit is None  # not the injected SIZE 1
    assert any("discarded" in e.text for e in session.transcript.entries)


def test_starttls_refused_stays_plaintext() -> None:
    session = ClientSession("client.test")
    step(session, GREETING)
    step(session, b"250-mx.test\r\n250 STARTTLS\r\n")
    _, action = step(session, b"454 4.7.0 TLS not available\r\n")
    assert isinstance(action, Idle)
    assert not session.tls_active
    assert session.starttls_reply is not None
    assert session.starttls_reply.code == 454


def test_starttls_not_used_when_not_wanted() -> None:
    session = ClientSession("client.test", use_starttls=False)
    step(session, GREETING)
    sent, action = step(session, b"250-mx.test\r\n250 STARTTLS\r\n")
    assert sent == b""
    assert isinstance(action, Idle)


def test_pipelined_transaction_with_partial_refusal() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test", "b@d.test"))
    sent, action = step(session)
    assert sent == (
        b"MAIL FROM:<s@a.test> SIZE=22\r\nRCPT TO:<a@d.test>\r\nRCPT TO:<b@d.test>\r\nDATA\r\n"
    )
    assert isinstance(action, ReceiveMore)
    assert action.phase is Phase.MAIL
    sent, action = step(session, b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n")
    assert isinstance(action, ReceiveMore)
    assert action.phase is Phase.DATA_INIT
    sent, action = step(session, b"354 go\r\n")
    assert isinstance(action, SendBody)
    session.body_sent(27)
    sent, action = step(session)
    assert isinstance(action, ReceiveMore)
    assert action.phase is Phase.FINAL_DOT
    sent, action = step(session, b"250 2.0.0 queued\r\n")
    assert isinstance(action, TransactionDone)
    result = action.result
    assert result.delivered == ("a@d.test",)
    assert result.reply_for("a@d.test").code == 250
    assert result.reply_for("b@d.test").code == 550
    assert session.is_ready
    assert isinstance(session.next_action(), Idle)


def test_unpipelined_transaction_sends_one_command_at_a_time() -> None:
    session = ready(EHLO_PLAIN)
    session.begin_transaction(envelope("a@d.test", "b@d.test"))
    transcript = [
        (b"", b"MAIL FROM:<s@a.test> SIZE=22\r\n"),
        (b"250 ok\r\n", b"RCPT TO:<a@d.test>\r\n"),
        (b"550 no\r\n", b"RCPT TO:<b@d.test>\r\n"),
        (b"250 ok\r\n", b"DATA\r\n"),
    ]
    for incoming, expected in transcript:
        sent, _ = step(session, incoming)
        assert sent == expected
    _, action = step(session, b"354 go\r\n")
    assert isinstance(action, SendBody)
    session.body_sent(27)
    _, action = step(session, b"250 queued\r\n")
    assert isinstance(action, TransactionDone)
    assert action.result.delivered == ("b@d.test",)


def test_unpipelined_no_recipient_accepted_sends_rset_not_data() -> None:
    session = ready(EHLO_PLAIN)
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    step(session, b"250 ok\r\n")
    sent, _ = step(session, b"550 no\r\n")
    assert sent == b"RSET\r\n"
    _, action = step(session, b"250 reset\r\n")
    assert isinstance(action, TransactionDone)
    assert action.result.data_reply is None
    assert action.result.delivered == ()


def test_unpipelined_mail_refused_sends_no_rcpt() -> None:
    session = ready(EHLO_PLAIN)
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    sent, action = step(session, b"553 bad sender\r\n")
    assert sent == b""
    assert isinstance(action, TransactionDone)
    assert action.result.recipients == ()
    assert action.result.reply_for("a@d.test").code == 553


def test_pipelined_no_recipient_and_data_refused_then_rset() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    sent, _ = step(session, b"250 ok\r\n550 no\r\n554 no valid recipients\r\n")
    assert sent == b"RSET\r\n"
    _, action = step(session, b"250 ok\r\n")
    assert isinstance(action, TransactionDone)
    assert action.result.data_reply is None
    assert action.result.reply_for("a@d.test").code == 550


def test_pipelined_no_recipient_but_data_accepted_sends_lone_dot() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    sent, _ = step(session, b"250 ok\r\n550 no\r\n354 go on\r\n")
    assert sent == b".\r\n"
    sent, _ = step(session, b"554 no recipients\r\n")
    assert sent == b"RSET\r\n"
    _, action = step(session, b"250 ok\r\n")
    assert isinstance(action, TransactionDone)
    assert action.result.delivered == ()


def test_data_refused_after_accepted_rcpt_is_the_recipients_reply() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    sent, _ = step(session, b"250 ok\r\n250 ok\r\n451 4.3.0 try later\r\n")
    assert sent == b"RSET\r\n"
    _, action = step(session, b"250 ok\r\n")
    assert isinstance(action, TransactionDone)
    assert action.result.reply_for("a@d.test").code == 451


def test_failed_cleanup_rset_makes_the_session_unusable() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    step(session, b"250 ok\r\n550 no\r\n554 no\r\n")
    _, action = step(session, b"500 what\r\n")
    assert isinstance(action, TransactionDone)
    assert not session.is_ready


def test_421_mid_transaction_raises_and_closes() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    with pytest.raises(ServiceClosingError) as info:
        step(session, b"250 ok\r\n421 4.3.2 shutting down\r\n")
    assert info.value.is_transient
    assert session.state is State.CLOSED


@pytest.mark.parametrize(
    ("ehlo", "message", "rcpt", "match", "enhanced"),
    [
        pytest.param(EHLO_PLAIN, "é\r\n".encode(), "a@d.test", "8BITMIME", "5.6.3", id="8bit"),
        pytest.param(EHLO_PLAIN, MESSAGE, "ä@d.test", "SMTPUTF8", "5.6.7", id="utf8-address"),
        pytest.param(EHLO_FULL, b"x" * 2000, "a@d.test", "SIZE|1000", "5.3.4", id="too-large"),
    ],
)
def test_message_the_server_cannot_take_fails_permanently_before_sending(
    ehlo: bytes, message: bytes, rcpt: str, match: str, enhanced: str
) -> None:
    session = ready(ehlo)
    with pytest.raises(UnsupportedMessageError, match=match) as info:
        session.begin_transaction(envelope(rcpt, message=message))
    assert not info.value.is_transient
    assert info.value.enhanced == enhanced
    assert session.is_ready
    assert step(session) == (b"", Idle())


def test_8bit_and_utf8_parameters_are_declared() -> None:
    session = ready()
    session.begin_transaction(envelope("ä@d.test", message="é\r\n".encode()))
    sent, _ = step(session)
    assert sent.startswith(b"MAIL FROM:<s@a.test> SIZE=4 BODY=8BITMIME SMTPUTF8\r\n")


def test_transaction_refuses_injection_and_empty_recipients() -> None:
    session = ready()
    with pytest.raises(InvalidArgumentError):
        session.begin_transaction(envelope("a@d.test\r\nDATA"))
    with pytest.raises(InvalidArgumentError):
        session.begin_transaction(envelope())
    assert session.is_ready


def test_transaction_before_ready_is_a_state_error() -> None:
    session = ClientSession("client.test")
    with pytest.raises(SessionStateError):
        session.begin_transaction(envelope("a@d.test"))


def test_rset_probe_and_failure() -> None:
    session = ready()
    session.reset()
    sent, action = step(session)
    assert sent == b"RSET\r\n"
    _, action = step(session, b"250 ok\r\n")
    assert isinstance(action, Idle)
    session.reset()
    step(session)
    with pytest.raises(PermanentReplyError):
        step(session, b"503 bad sequence\r\n")


def test_quit_then_closed() -> None:
    session = ready()
    session.quit()
    sent, action = step(session)
    assert sent == b"QUIT\r\n"
    assert isinstance(action, ReceiveMore)
    assert action.phase is Phase.QUIT
    _, action = step(session, b"221 bye\r\n")
    assert isinstance(action, Closed)


def test_protocol_error_closes_the_session() -> None:
    session = ClientSession("client.test")
    with pytest.raises(ProtocolError):
        step(session, b"garbage\r\n")
    assert session.state is State.CLOSED


def test_transcript_has_commands_and_replies_but_no_body() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test", message=b"Subject: secret\r\n\r\nsecret\r\n"))
    step(session)
    step(session, b"250 ok\r\n250 ok\r\n354 go\r\n")
    session.body_sent(33)
    step(session, b"250 queued\r\n")
    text = session.transcript.render()
    assert "C: MAIL FROM:<s@a.test> SIZE=27" in text
    assert "S: 250-mx.test" in text
    assert "S: 250 queued" in text
    assert "secret" not in text
    assert any(e.direction is Direction.NOTE for e in session.transcript.entries)


def test_2xx_to_data_is_a_protocol_error_not_a_delivery() -> None:
    session = ready()
    session.begin_transaction(envelope("a@d.test"))
    step(session)
    with pytest.raises(ProtocolError, match="354"):
        step(session, b"250 ok\r\n250 ok\r\n250 sure\r\n")
