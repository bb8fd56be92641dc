"""The SMTP server state machine, without I/O: bytes in, events and replies out.

Rule: everything that changes a server session's state lives in this file. The driver feeds
bytes with ``receive_data``, asks ``next_event()`` what to do, answers each decision event with
``respond()`` and writes ``data_to_send()``. Every door (submission, the inbound return path)
uses this one core and decides only what the events ask.

Why our own core rather than aiosmtpd: the client side is already our own sans-I/O machine,
so both directions share one style and one set of limits; aiosmtpd couples parsing to its
asyncio loop (nothing testable bytes-in/bytes-out), needed a 2024 fix for SMTP smuggling
(CVE-2024-27305), and leaves per-address limits, error counting and TLS reload to us anyway.

SECURITY, as implemented here:
- A command line is at most 512 octets with its CRLF (RFC 5321 §4.5.3.1.4; AUTH lines 12,288,
  RFC 4954 §4): a longer one is answered 500 5.5.6, skipped to its end, and the session goes
  on. Nothing waits in memory beyond one line.
- Only ``<CRLF>.<CRLF>`` ends DATA (``data_reader``); bytes after it are read as commands only
  then, so a command hidden in a body never opens a second transaction.
- STARTTLS drops every byte buffered before the handshake and all session state (RFC 3207
  §4.2, CVE-2011-0411); the client must EHLO again.
- AUTH only after TLS when the door says so (538 5.7.11 otherwise); MAIL and RCPT need AUTH
  when the door says so (530 5.7.0).
- Commands are answered strictly in order (RFC 2920 §3.1); the driver flushes replies when no
  complete command is left to read.
- After ``max_errors`` refused commands the next command gets 421 and the session ends.
Must not do I/O, read clocks, log credentials, or decide what a door accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from postillon.smtp import sasl
from postillon.smtp import server_reply as r
from postillon.smtp.data_reader import DataReader
from postillon.smtp.line_reader import LineReader, TooLong
from postillon.smtp.server_commands import (
    Command,
    CommandSyntaxError,
    Path,
    Verb,
    check_mail_parameters,
    check_rcpt_parameters,
    parse_command,
    parse_path_argument,
)
from postillon.smtp.server_events import (
    Authenticate,
    Close,
    Decision,
    Envelope,
    Hello,
    MailFrom,
    MessageData,
    NeedData,
    RcptTo,
    ServerEvent,
    StartTls,
)
from postillon.smtp.server_reply import ServerReply

# RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including the CRLF.
MAX_COMMAND_LINE_OCTETS = 512
# RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients per message.
DEFAULT_MAX_RECIPIENTS = 100
# Refused commands before the session is ended with 421 (Postfix's hard error limit is 20;
# an honest client rarely makes more than a few mistakes in one session).
DEFAULT_MAX_ERRORS = 10


@dataclass(frozen=True)
class ServerConfig:
    """What a door's sessions offer and enforce."""

    hostname: str
    max_message_octets: int
    max_recipients: int = DEFAULT_MAX_RECIPIENTS
    max_errors: int = DEFAULT_MAX_ERRORS
    tls_available: bool = False  # offer STARTTLS (the driver has a certificate)
    auth_mechanisms: tuple[sasl.Mechanism, ...] = ()
    auth_needs_tls: bool = True  # RFC 8314 §3: never AUTH in plaintext
    auth_required: bool = False  # MAIL and RCPT need a successful AUTH


class _State(Enum):
    COMMAND = auto()  # reading command lines
    DATA = auto()  # reading a message body
    SASL = auto()  # waiting for a response to a 334 challenge
    DECIDING = auto()  # a decision event is out; nothing is read until respond()
    TLS = auto()  # 220 to STARTTLS queued; the driver runs the handshake
    CLOSED = auto()  # 221 or 421 queued: the driver closes


class ServerSession:
    """The server side of one SMTP connection. ``tls_active`` is True for implicit TLS
    (RFC 8314 port 465). The greeting is queued at construction."""

    def __init__(self, config: ServerConfig, *, tls_active: bool = False) -> None:
        self.config = config
        self.tls_active = tls_active
        self.hello: str | None = None
        self.authenticated = False
        self.errors = 0
        self.messages = 0
        self._state = _State.COMMAND
        self._lines = LineReader()
        self._out: list[bytes] = []
        self._mail: Path | None = None
        self._rcpts: list[Path] = []
        self._reader: DataReader | None = None
        self._pending: Decision | None = None
        self._sasl: sasl.SaslExchange | None = None
        self._send(r.reply(220, None, f"{config.hostname} ESMTP"))

    # -- inputs ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client (any amount; they wait until events consume them)."""
        self._lines.feed(data)

    @property
    def buffered_octets(self) -> int:
        """Octets received and not yet consumed."""
        return len(self._lines)

    def data_to_send(self) -> bytes:
        """Replies queued since the last call, in command order."""
        data = b"".join(self._out)
        self._out.clear()
        return data

    def respond(self, answer: ServerReply | None) -> None:
        """Answer the pending decision event; None accepts it with the default reply."""
        event = self._pending
        if event is None or self._state is not _State.DECIDING:
            raise RuntimeError("no decision is pending")
        self._pending = None
        self._state = _State.COMMAND
        accepted = answer is None or answer.is_positive
        if isinstance(event, Hello):
            if accepted:
                self.hello = event.name
                self._clear_transaction()
            self._send(answer or self._hello_reply(event))
        elif isinstance(event, Authenticate):
            self.authenticated = accepted
            self._send(answer or r.AUTH_OK)
        elif isinstance(event, MailFrom):
            if accepted:
                self._mail = event.path
            self._send(answer or r.SENDER_OK)
        elif isinstance(event, RcptTo):
            if accepted:
                self._rcpts.append(event.path)
            self._send(answer or r.RECIPIENT_OK)
        else:
            self.messages += int(accepted)
            self._clear_transaction()
            self._send(answer or r.OK)

    def tls_established(self) -> None:
        """The handshake after STARTTLS succeeded: start over, as RFC 3207 §4.2 requires."""
        if self._state is not _State.TLS:
            raise RuntimeError("no STARTTLS in progress")
        self._lines.clear()
        self.tls_active = True
        self.hello = None
        self.authenticated = False
        self._clear_transaction()
        self._state = _State.COMMAND

    def close(self, answer: ServerReply) -> None:
        """End the session with ``answer`` (a 421 on timeout or shutdown)."""
        if self._state is not _State.CLOSED:
            self._send(answer)
            self._state = _State.CLOSED

    # -- the driver loop ---------------------------------------------------------------------

    def next_event(self) -> ServerEvent:
        """What the driver must do or decide next."""
        while True:
            if self._state is _State.DECIDING:
                assert self._pending is not None
                return self._pending
            if self._state is _State.CLOSED:
                return Close()
            if self._state is _State.TLS:
                return StartTls()
            if self._state is _State.DATA:
                event = self._read_data()
            else:
                line = self._next_line()
                if line is None:
                    return NeedData()
                event = self._on_line(line)
            if event is not None:
                if isinstance(event, NeedData):
                    return event
                self._pending = event
                self._state = _State.DECIDING
                return event

    # -- lines -------------------------------------------------------------------------------

    def _next_line(self) -> bytes | None:
        while True:
            sasl_line = self._state is not _State.COMMAND or self._lines.starts_with(b"AUTH ")
            limit = sasl.MAX_SASL_LINE_OCTETS if sasl_line else MAX_COMMAND_LINE_OCTETS
            line = self._lines.next_line(limit)
            if not isinstance(line, TooLong):
                return line
            self._state = _State.COMMAND  # an overlong SASL response cancels the exchange
            self._send(r.LINE_TOO_LONG)
            if self._state is _State.CLOSED:
                return None

    def _on_line(self, line: bytes) -> Decision | None:
        if self.errors >= self.config.max_errors:
            self.close(r.TOO_MANY_ERRORS)
            return None
        if self._state is not _State.COMMAND:
            return self._on_sasl_line(line)
        try:
            command = parse_command(line)
        except CommandSyntaxError as error:
            self._send(error.reply)
            return None
        handler = _COMMANDS[command.verb]
        try:
            return handler(self, command)
        except CommandSyntaxError as error:
            self._send(error.reply)
            return None

    # -- commands ----------------------------------------------------------------------------

    def _on_hello(self, command: Command) -> Decision | None:
        name = command.argument
        if not name or " " in name:
            raise CommandSyntaxError(r.reply(501, "5.5.4", f"{command.verb} needs a name"))
        return Hello(name, extended=command.verb is Verb.EHLO)

    def _hello_reply(self, event: Hello) -> ServerReply:
        greeting = f"{self.config.hostname} hello {event.name}"
        if not event.extended:
            return r.ServerReply(250, None, (greeting,))
        starttls = self.config.tls_available and not self.tls_active
        auth = self.config.auth_mechanisms if self._auth_offered else ()
        return r.ehlo_reply(greeting, self.config.max_message_octets, starttls, auth)

    @property
    def _auth_offered(self) -> bool:
        mechanisms = self.config.auth_mechanisms
        return bool(mechanisms) and (self.tls_active or not self.config.auth_needs_tls)

    def _on_starttls(self, command: Command) -> None:
        if command.argument:
            raise CommandSyntaxError(r.SYNTAX)
        if self.tls_active:
            self._send(r.TLS_ALREADY)
        elif not self.config.tls_available:
            self._send(r.TLS_UNAVAILABLE)
        elif self.hello is None:
            self._send(r.NEED_HELLO)
        else:
            self._send(r.READY_TLS)
            # CVE-2011-0411: nothing the client pipelined after STARTTLS is ever executed.
            self._lines.clear()
            self._state = _State.TLS

    def _on_auth(self, command: Command) -> Decision | None:
        mechanism_text, _, initial = command.argument.partition(" ")
        if not self.config.auth_mechanisms:
            self._send(r.AUTH_UNAVAILABLE)
        elif self.hello is None:
            self._send(r.NEED_HELLO)
        elif self.authenticated:
            self._send(r.AUTH_ALREADY)
        elif self._mail is not None:
            self._send(r.BAD_SEQUENCE)  # RFC 4954 §4: not during a mail transaction
        elif not self._auth_offered:
            self._send(r.ENCRYPTION_REQUIRED)  # RFC 4954 §6
        else:
            try:
                mechanism = sasl.Mechanism(mechanism_text.upper())
            except ValueError:
                mechanism = None
            if mechanism is None or mechanism not in self.config.auth_mechanisms:
                self._send(r.AUTH_MECHANISM)
                return None
            return self._start_sasl(mechanism, initial.strip())
        return None

    def _start_sasl(self, mechanism: sasl.Mechanism, initial: str) -> Decision | None:
        self._sasl = sasl.SaslExchange(mechanism)
        return self._on_sasl_line(initial.encode())

    def _on_sasl_line(self, line: bytes) -> Decision | None:
        exchange = self._sasl
        assert exchange is not None
        self._state = _State.COMMAND
        try:
            step = exchange.step(line.decode("ascii", "replace").strip())
        except sasl.SaslCancelled:
            self._sasl = None
            self._send(r.AUTH_CANCELLED)
            return None
        except sasl.SaslError:
            self._sasl = None
            self._send(r.AUTH_MALFORMED)
            return None
        if isinstance(step, sasl.Credentials):
            self._sasl = None
            return Authenticate(step)
        self._state = _State.SASL
        self._send(r.ServerReply(334, None, (step,)))
        return None

    def _may_transact(self) -> bool:
        if self.hello is None:
            self._send(r.NEED_HELLO)
        elif self.config.auth_required and not self.authenticated:
            self._send(r.NEED_AUTH)
        else:
            return True
        return False

    def _on_mail(self, command: Command) -> Decision | None:
        if not self._may_transact():
            return None
        if self._mail is not None:
            self._send(r.NESTED_MAIL)
            return None
        path = parse_path_argument(command.argument, "FROM", null_allowed=True)
        refusal = check_mail_parameters(path, self.config.max_message_octets)
        if refusal is not None:
            self._send(refusal)
            return None
        return MailFrom(path)

    def _on_rcpt(self, command: Command) -> Decision | None:
        if not self._may_transact():
            return None
        if self._mail is None:
            self._send(r.NEED_MAIL)
            return None
        path = parse_path_argument(command.argument, "TO", null_allowed=False)
        refusal = check_rcpt_parameters(path, self._mail)
        if refusal is not None:
            self._send(refusal)
            return None
        if len(self._rcpts) >= self.config.max_recipients:
            # RFC 5321 §4.5.3.1.10: 452, so the client sends the rest in another transaction.
            self._send(r.TOO_MANY_RECIPIENTS)
            return None
        return RcptTo(path, self._mail)

    def _on_data(self, command: Command) -> None:
        if command.argument:
            raise CommandSyntaxError(r.SYNTAX)
        if not self._may_transact():
            return
        if self._mail is None:
            self._send(r.NEED_MAIL)
        elif not self._rcpts:
            self._send(r.NEED_RCPT)  # RFC 2920 §3.1: every RCPT of the group was refused
        else:
            self._send(r.START_INPUT)
            self._reader = DataReader(self.config.max_message_octets)
            self._state = _State.DATA

    def _read_data(self) -> Decision | NeedData | None:
        assert self._reader is not None
        assert self._mail is not None
        result = self._reader.feed(self._lines.take_all())
        if result is None:
            return NeedData()
        self._lines.feed(result.leftover)
        self._reader = None
        self._state = _State.COMMAND
        if result.body is None:
            self._clear_transaction()
            self._send(r.TOO_BIG)
            return None
        return MessageData(Envelope(self._mail, tuple(self._rcpts)), result.body)

    def _on_rset(self, command: Command) -> None:
        self._clear_transaction()
        self._send(r.OK)

    def _on_noop(self, command: Command) -> None:
        self._send(r.OK)

    def _on_quit(self, command: Command) -> None:
        self.close(r.BYE)

    def _on_vrfy(self, command: Command) -> None:
        self._send(r.VRFY_CANNOT)  # RFC 5321 §3.5.3: 252, we do not disclose mailboxes

    def _on_help(self, command: Command) -> None:
        self._send(r.HELP)

    # -- helpers -----------------------------------------------------------------------------

    def _send(self, answer: ServerReply) -> None:
        self._out.append(answer.encode())
        if answer.code == 421:
            self._state = _State.CLOSED
        elif answer.is_error and answer is not r.TOO_MANY_RECIPIENTS:
            self.errors += 1

    def _clear_transaction(self) -> None:
        self._mail = None
        self._rcpts = []
        self._reader = None


_COMMANDS = {
    Verb.EHLO: ServerSession._on_hello,
    Verb.HELO: ServerSession._on_hello,
    Verb.MAIL: ServerSession._on_mail,
    Verb.RCPT: ServerSession._on_rcpt,
    Verb.DATA: ServerSession._on_data,
    Verb.RSET: ServerSession._on_rset,
    Verb.NOOP: ServerSession._on_noop,
    Verb.QUIT: ServerSession._on_quit,
    Verb.VRFY: ServerSession._on_vrfy,
    Verb.HELP: ServerSession._on_help,
    Verb.STARTTLS: ServerSession._on_starttls,
    Verb.AUTH: ServerSession._on_auth,
}
