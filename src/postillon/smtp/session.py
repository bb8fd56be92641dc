"""The SMTP client state machine: greeting, EHLO/HELO, STARTTLS, transactions, RSET, QUIT.

Rule: everything that changes the session's state lives in this file. Bytes come in through
``receive_data``; ``next_action()`` says what the driver must do next (send bytes, read more,
run the TLS handshake, stream the body) and handles each complete reply as it arrives. The
handlers are looked up in ``_HANDLERS`` by the command a reply answers.

Flow: greeting (220) → EHLO (HELO if EHLO gets a 5xx, RFC 5321 §3.2) → STARTTLS when offered
and wanted (RFC 3207) → after the handshake everything buffered is discarded and EHLO is sent
again (§4.2, CVE-2011-0411) → transactions. A transaction sends MAIL, every RCPT and DATA in one
flight when the server offers PIPELINING (RFC 2920 §3.1), one at a time otherwise; it records a
reply per recipient, so a partly refused transaction still delivers to the others. With no RCPT
accepted DATA is not sent (without pipelining) or, when pipelined, a refused DATA is followed by
RSET and an accepted one by a lone "." and RSET (RFC 2920 §3.1).

CHUNKING (RFC 3030) is parsed but BDAT is not used: DATA with dot-stuffing streams just as well,
every server supports it, and BDAT only pays off for BINARYMIME bodies, which we never send
(our messages are 7bit or 8bitmime, CRLF-normalised before DKIM signing).

Must not do I/O, read clocks, or decide retries; it raises only postillon.errors types.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto

from postillon.errors import PostillonError, ProtocolError
from postillon.smtp import commands
from postillon.smtp.data import TERMINATOR
from postillon.smtp.errors import (
    InvalidArgumentError,
    ServiceClosingError,
    SessionClosingError,
    SessionRefusedError,
    SessionStateError,
    UnsupportedMessageError,
    error_for_reply,
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
from postillon.smtp.extensions import Extensions, parse_ehlo
from postillon.smtp.reply import Reply, ReplyParser
from postillon.smtp.transaction import (
    Envelope,
    TransactionProgress,
    TransactionResult,
    unmet_need,
)
from postillon.smtp.transcript import Direction, Transcript


class State(Enum):
    """Where the session is."""

    GREETING = auto()  # connected, waiting for the 220
    EHLO = auto()  # EHLO sent
    HELO = auto()  # HELO sent after EHLO was refused
    STARTTLS = auto()  # STARTTLS sent
    TLS_HANDSHAKE = auto()  # 220 to STARTTLS: the driver runs the handshake
    READY = auto()  # idle between transactions
    TRANSACTION = auto()  # MAIL/RCPT/DATA (and clean-up RSET) in flight
    BODY = auto()  # 354 received: the driver streams the body
    RESET = auto()  # a standalone RSET in flight
    QUIT = auto()  # QUIT sent
    CLOSED = auto()  # over: after QUIT or any error


class _Cmd(Enum):
    GREETING = auto()
    EHLO = auto()
    HELO = auto()
    STARTTLS = auto()
    MAIL = auto()
    RCPT = auto()
    DATA = auto()
    FINAL_DOT = auto()
    ABORT_DOT = auto()  # the lone "." after a 354 with no recipient accepted
    TXN_RSET = auto()  # RSET closing a transaction that did not reach the final dot
    RSET = auto()
    QUIT = auto()


@dataclass(frozen=True)
class _Pending:
    cmd: _Cmd
    phase: Phase


class ClientSession:
    """The client side of one SMTP connection, without I/O.

    ``helo_name`` is our EHLO/HELO name; ``use_starttls`` says whether to run STARTTLS when the
    server offers it. After construction the first action is to read the greeting.
    """

    def __init__(self, helo_name: str, *, use_starttls: bool = True) -> None:
        commands.ehlo(helo_name)  # validate now, not after the greeting
        self.helo_name = helo_name
        self.use_starttls = use_starttls
        self.state = State.GREETING
        self.extensions: Extensions | None = None
        self.tls_active = False
        self.starttls_reply: Reply | None = None
        self.transcript = Transcript()
        self.transactions = 0
        self.replies_received = 0
        self._parser = ReplyParser()
        self._outbox: list[bytes] = []
        self._out_phase = Phase.EHLO
        self._awaiting: deque[_Pending] = deque([_Pending(_Cmd.GREETING, Phase.GREETING)])
        self._txn: TransactionProgress | None = None
        self._done: TransactionResult | None = None
        self._must_close = False

    # -- inputs ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the server. Raises ProtocolError past the parser's buffer limit."""
        self._parser.feed(data)

    @property
    def is_ready(self) -> bool:
        """Whether a transaction may start now (idle, nothing unexpected pending)."""
        return self.state is State.READY and not self._must_close and not self._awaiting

    @property
    def is_awaiting_final_reply(self) -> bool:
        """Whether the body went out and the reply to its final dot has not been read: if
        the session dies now, the server may or may not have taken the message."""
        return any(pending.cmd is _Cmd.FINAL_DOT for pending in self._awaiting)

    @property
    def buffered_octets(self) -> int:
        """Octets received and not yet parsed (bounded by the parser's limits)."""
        return self._parser.buffered_octets

    def begin_transaction(self, envelope: Envelope) -> None:
        """Start sending ``envelope``; the driver then follows ``next_action()``.

        Raises UnsupportedMessageError (permanent) when the server lacks what the message needs,
        InvalidArgumentError for an address we refuse to send, SessionStateError if not ready.
        Nothing is sent when it raises.
        """
        if not self.is_ready or self.extensions is None:
            raise SessionStateError(f"cannot start a transaction in state {self.state.name}")
        if not envelope.rcpt_tos:
            raise InvalidArgumentError("a transaction needs at least one recipient")
        ext = self.extensions
        unmet = unmet_need(envelope, ext)
        if unmet is not None:
            raise UnsupportedMessageError(unmet.text, enhanced=unmet.enhanced)
        mail = commands.mail_from(
            envelope.mail_from,
            size=envelope.size if ext.has_size else None,
            body_8bit=envelope.is_8bit,
            smtputf8=envelope.needs_smtputf8,
        )
        rcpts = [commands.rcpt_to(rcpt) for rcpt in envelope.rcpt_tos]
        self.transactions += 1
        self.state = State.TRANSACTION
        self._txn = TransactionProgress(envelope, ext.pipelining, deque(envelope.rcpt_tos))
        self._queue(mail, _Cmd.MAIL, Phase.MAIL)
        if ext.pipelining:
            # RFC 2920 §3.1: MAIL, RCPTs and DATA in one group; DATA must be last.
            self._txn.unsent_rcpts.clear()
            for line in rcpts:
                self._queue(line, _Cmd.RCPT, Phase.RCPT)
            self._queue(commands.data(), _Cmd.DATA, Phase.DATA_INIT)

    def tls_established(self) -> None:
        """The TLS handshake succeeded: forget everything read before it and EHLO again."""
        self._expect(State.TLS_HANDSHAKE)
        dropped = self._parser.discard()
        if dropped:
            # RFC 3207 §4.2 / CVE-2011-0411: bytes the peer sent before the handshake are
            # never read as if they came over TLS.
            self.transcript.add(Direction.NOTE, f"discarded {dropped} octets sent before TLS")
        self.tls_active = True
        self.extensions = None
        self.state = State.EHLO
        self._queue(commands.ehlo(self.helo_name), _Cmd.EHLO, Phase.EHLO)

    def body_sent(self, octets: int) -> None:
        """The driver wrote the whole encoded body (``octets`` on the wire), terminator included."""
        self._expect(State.BODY)
        self.transcript.add(Direction.NOTE, f"message body: {octets} octets")
        self.state = State.TRANSACTION
        self._awaiting.append(_Pending(_Cmd.FINAL_DOT, Phase.FINAL_DOT))

    def reset(self) -> None:
        """Send RSET (RFC 5321 §4.1.1.5): the probe before reusing an idle connection."""
        if not self.is_ready:
            raise SessionStateError(f"cannot RSET in state {self.state.name}")
        self.state = State.RESET
        self._queue(commands.rset(), _Cmd.RSET, Phase.RSET)

    def quit(self) -> None:
        """Send QUIT (§4.1.1.10) and forget anything still awaited; then read its reply."""
        if self.state in (State.QUIT, State.CLOSED):
            return
        self._awaiting.clear()
        self._outbox.clear()
        self.state = State.QUIT
        self._queue(commands.quit_(), _Cmd.QUIT, Phase.QUIT)

    def abort(self) -> None:
        """The connection failed or is being dropped: the session is over."""
        self.state = State.CLOSED
        self._awaiting.clear()
        self._outbox.clear()

    # -- the driver loop ---------------------------------------------------------------------

    def next_action(self) -> Action:
        """What the driver must do next. Raises the error a reply or the peer's bytes caused
        (the session is then CLOSED)."""
        try:
            return self._next_action()
        except PostillonError:
            self.abort()
            raise

    def _next_action(self) -> Action:
        while True:
            if self._outbox:
                data = b"".join(self._outbox)
                self._outbox.clear()
                return Send(data, self._out_phase)
            if self.state is State.TLS_HANDSHAKE:
                return StartTls()
            if self.state is State.BODY:
                return SendBody()
            if self._awaiting:
                reply = self._parser.next_reply()
                if reply is None:
                    return ReceiveMore(self._awaiting[0].phase, self._parser.room)
                self.replies_received += 1
                self._record_reply(reply)
                pending = self._awaiting.popleft()
                _HANDLERS[pending.cmd](self, reply)
                continue
            if self._done is not None:
                done, self._done = self._done, None
                return TransactionDone(done)
            if self.state is State.CLOSED:
                return Closed()
            return Idle()

    # -- helpers -----------------------------------------------------------------------------

    def _queue(self, line: bytes, cmd: _Cmd, phase: Phase) -> None:
        if not self._outbox:
            self._out_phase = phase
        self._outbox.append(line)
        self._awaiting.append(_Pending(cmd, phase))
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        self.transcript.add(Direction.CLIENT, text)

    def _record_reply(self, reply: Reply) -> None:
        last = len(reply.lines) - 1
        for index, line in enumerate(reply.lines):
            sep = " " if index == last else "-"
            self.transcript.add(Direction.SERVER, f"{reply.code}{sep}{line}".rstrip())

    def _expect(self, state: State) -> None:
        if self.state is not state:
            raise SessionStateError(f"expected state {state.name}, in {self.state.name}")

    def _refused(self, command: str, reply: Reply) -> PostillonError:
        if reply.code == 421:
            return SessionClosingError(command, reply)
        return SessionRefusedError(command, reply)

    # -- reply handlers (the transition table is _HANDLERS below) ----------------------------

    def _on_greeting(self, reply: Reply) -> None:
        if not reply.is_positive:
            raise self._refused("greeting", reply)
        self.state = State.EHLO
        self._queue(commands.ehlo(self.helo_name), _Cmd.EHLO, Phase.EHLO)

    def _on_ehlo(self, reply: Reply) -> None:
        if reply.is_permanent:
            # §3.2: a server that does not know EHLO answers 5xx; fall back to HELO.
            self.state = State.HELO
            self._queue(commands.helo(self.helo_name), _Cmd.HELO, Phase.EHLO)
            return
        if not reply.is_positive:
            raise self._refused("EHLO", reply)
        self.extensions = parse_ehlo(reply)
        if self.use_starttls and not self.tls_active and self.extensions.starttls:
            self.state = State.STARTTLS
            self._queue(commands.starttls(), _Cmd.STARTTLS, Phase.STARTTLS)
        else:
            self.state = State.READY

    def _on_helo(self, reply: Reply) -> None:
        if not reply.is_positive:
            raise self._refused("HELO", reply)
        self.extensions = Extensions(server_name=reply.lines[0].split(" ", 1)[0])
        self.state = State.READY

    def _on_starttls(self, reply: Reply) -> None:
        self.starttls_reply = reply
        if reply.code == 421:
            raise ServiceClosingError("STARTTLS", reply)
        # RFC 3207 §4: 220 means "go ahead"; a refusal (454) leaves the session in plaintext.
        self.state = State.TLS_HANDSHAKE if reply.code == 220 else State.READY

    def _on_mail(self, reply: Reply) -> None:
        txn = self._current_txn(reply, "MAIL")
        txn.mail_reply = reply
        if not txn.pipelined:
            if reply.is_positive:
                self._queue(commands.rcpt_to(txn.unsent_rcpts.popleft()), _Cmd.RCPT, Phase.RCPT)
            else:
                self._finish_txn()

    def _on_rcpt(self, reply: Reply) -> None:
        txn = self._current_txn(reply, "RCPT")
        txn.add_rcpt_reply(reply)
        if txn.pipelined:
            return
        if txn.unsent_rcpts:
            self._queue(commands.rcpt_to(txn.unsent_rcpts.popleft()), _Cmd.RCPT, Phase.RCPT)
        elif txn.has_accepted_rcpt:
            self._queue(commands.data(), _Cmd.DATA, Phase.DATA_INIT)
        else:
            # No recipient: DATA is not sent; RSET closes the transaction MAIL opened.
            self._queue(commands.rset(), _Cmd.TXN_RSET, Phase.RSET)

    def _on_data(self, reply: Reply) -> None:
        txn = self._current_txn(reply, "DATA")
        deliverable = txn.has_accepted_rcpt
        if reply.is_positive:
            # §4.1.1.4: DATA is answered 354 or an error; a 2xx would let us count a message
            # as delivered whose body was never sent.
            raise ProtocolError(f"server answered DATA with {reply}, not 354")
        if reply.code == 354 and deliverable:
            self.state = State.BODY
        elif reply.code == 354:
            # RFC 2920 §3.1: DATA accepted with no recipient; send a lone "." to end it.
            self._outbox.append(TERMINATOR)
            self._out_phase = Phase.FINAL_DOT
            self._awaiting.append(_Pending(_Cmd.ABORT_DOT, Phase.FINAL_DOT))
            self.transcript.add(Direction.CLIENT, ". (no recipient accepted)")
        else:
            if deliverable:
                txn.data_reply = reply
            self._close_txn(txn)

    def _on_final_dot(self, reply: Reply) -> None:
        txn = self._current_txn(reply, "end of data")
        txn.data_reply = reply
        self._finish_txn()

    def _on_abort_dot(self, reply: Reply) -> None:
        self._close_txn(self._current_txn(reply, "end of data"))

    def _on_txn_rset(self, reply: Reply) -> None:
        if reply.code == 421:
            raise ServiceClosingError("RSET", reply)
        if not reply.is_positive:
            self._must_close = True  # server state unknown: do not reuse
        self._finish_txn()

    def _on_rset(self, reply: Reply) -> None:
        if not reply.is_positive:
            raise error_for_reply("RSET", reply)
        self.state = State.READY

    def _on_quit(self, reply: Reply) -> None:
        self.state = State.CLOSED

    def _current_txn(self, reply: Reply, command: str) -> TransactionProgress:
        if reply.code == 421:
            # §3.8: the server is shutting the connection; nothing more will be answered.
            raise ServiceClosingError(command, reply)
        assert self._txn is not None
        return self._txn

    def _close_txn(self, txn: TransactionProgress) -> None:
        mail_ok = txn.mail_reply is not None and txn.mail_reply.is_positive
        if mail_ok:
            self._queue(commands.rset(), _Cmd.TXN_RSET, Phase.RSET)
        else:
            self._finish_txn()

    def _finish_txn(self) -> None:
        assert self._txn is not None
        self._done = self._txn.result()
        self._txn = None
        self.state = State.READY


_HANDLERS: dict[_Cmd, Callable[[ClientSession, Reply], None]] = {
    _Cmd.GREETING: ClientSession._on_greeting,
    _Cmd.EHLO: ClientSession._on_ehlo,
    _Cmd.HELO: ClientSession._on_helo,
    _Cmd.STARTTLS: ClientSession._on_starttls,
    _Cmd.MAIL: ClientSession._on_mail,
    _Cmd.RCPT: ClientSession._on_rcpt,
    _Cmd.DATA: ClientSession._on_data,
    _Cmd.FINAL_DOT: ClientSession._on_final_dot,
    _Cmd.ABORT_DOT: ClientSession._on_abort_dot,
    _Cmd.TXN_RSET: ClientSession._on_txn_rset,
    _Cmd.RSET: ClientSession._on_rset,
    _Cmd.QUIT: ClientSession._on_quit,
}
