"""The SMTP listener with real clients: smtplib over STARTTLS and implicit TLS, raw sockets for
injection, openssl s_client for protocol versions, limits and timeouts.

Addresses: 127.0.14.2 (listener), 127.0.14.3 (implicit TLS); ports chosen by the kernel.
"""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from postillon.smtp import server_reply as replies
from postillon.smtp.sasl import Credentials, Mechanism
from postillon.smtp.server_events import Hello, MailFrom, MessageData, RcptTo
from postillon.smtp.server_reply import ServerReply
from postillon.smtp.server_session import ServerConfig
from postillon.transport.server_connection import SessionTimeouts
from postillon.transport.server_handler import ConnectionHandler, PeerInfo
from postillon.transport.server_tls import ServerTls
from postillon.transport.smtp_listener import ListenerConfig, SmtpListener
from tests.support.certs import TestPki

HOST = "127.0.14.2"
HOST_TLS = "127.0.14.3"
NAME = "sub.postillon.test"
PASSWORD = "pst_good"


@dataclass
class Recorder:
    """A door that accepts everything from a client who authenticated with PASSWORD."""

    messages: list[MessageData] = field(default_factory=list)
    peers: list[PeerInfo] = field(default_factory=list)
    slow_s: float = 0.0

    def connection(self, peer: PeerInfo) -> ConnectionHandler:
        self.peers.append(peer)
        return _Conn(self, peer)


class _Conn:
    def __init__(self, door: Recorder, peer: PeerInfo) -> None:
        self.door = door
        self.peer = peer

    async def hello(self, event: Hello) -> ServerReply | None:
        return None

    async def authenticate(self, credentials: Credentials) -> ServerReply | None:
        return None if credentials.password == PASSWORD else replies.AUTH_FAILED

    async def mail_from(self, event: MailFrom) -> ServerReply | None:
        return None

    async def rcpt_to(self, event: RcptTo) -> ServerReply | None:
        return None

    async def message(self, event: MessageData) -> ServerReply | None:
        await asyncio.sleep(self.door.slow_s)
        if b"raise" in event.data:
            raise RuntimeError("a bug in the door")
        self.door.messages.append(event)
        return None

    def tls_started(self) -> None:
        pass


SESSION = ServerConfig(
    hostname=NAME,
    max_message_octets=10_000,
    tls_available=True,
    auth_mechanisms=(Mechanism.PLAIN, Mechanism.LOGIN),
    auth_required=True,
)

Start = Callable[..., Awaitable[SmtpListener]]


@pytest.fixture
async def listen(pki: TestPki) -> AsyncIterator[Start]:
    started: list[SmtpListener] = []
    files = pki.cert_files(NAME)

    async def start(door: Recorder, **options: object) -> SmtpListener:
        host = HOST_TLS if options.get("implicit_tls") else HOST
        config = ListenerConfig(addresses=((host, 0),), session=SESSION, **options)  # type: ignore[arg-type]
        listener = SmtpListener(config, door, ServerTls(files.cert_path, files.key_path))
        await listener.start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        await listener.close()


def _client_context(pki: TestPki) -> ssl.SSLContext:
    context = pki.client_context()
    context.check_hostname = False
    return context


def _submit(port: int, pki: TestPki, *, implicit: bool = False) -> dict[str, tuple[int, bytes]]:
    client: smtplib.SMTP
    if implicit:
        client = smtplib.SMTP_SSL(HOST_TLS, port, context=_client_context(pki), timeout=10)
    else:
        client = smtplib.SMTP(HOST, port, timeout=10)
        client.starttls(context=_client_context(pki))
    with client:
        client.login("anything", PASSWORD)
        return client.sendmail("a@x.test", ["b@y.test"], b"Subject: hi\r\n\r\n.dot\r\nbody\r\n")


async def test_starttls_auth_and_send_with_smtplib(listen: Start, pki: TestPki) -> None:
    door = Recorder()
    listener = await listen(door)
    port = listener.sockets[0][1]
    refused = await asyncio.to_thread(_submit, port, pki)
    assert refused == {}
    [message] = door.messages
    assert message.data == b"Subject: hi\r\n\r\n.dot\r\nbody\r\n"
    assert door.peers[0].tls is not None
    assert door.peers[0].tls.version in {"TLSv1.2", "TLSv1.3"}


async def test_implicit_tls_with_smtplib(listen: Start, pki: TestPki) -> None:
    door = Recorder()
    listener = await listen(door, implicit_tls=True)
    await asyncio.to_thread(_submit, listener.sockets[0][1], pki, implicit=True)
    assert len(door.messages) == 1


async def test_plaintext_auth_is_refused(listen: Start) -> None:
    listener = await listen(Recorder())

    def attempt() -> tuple[int, bytes]:
        with smtplib.SMTP(HOST, listener.sockets[0][1], timeout=10) as client:
            client.ehlo("c.test")
            assert not client.has_extn("auth")
            return client.docmd("AUTH", "PLAIN AHVzZXIAcHN0X2dvb2Q=")

    code, _ = await asyncio.to_thread(attempt)
    assert code == 538


async def _raw(port: int, data: bytes, *, read_s: float = 1.0) -> bytes:
    reader, writer = await asyncio.open_connection(HOST, port)
    await reader.readline()
    writer.write(data)
    await writer.drain()
    chunks = b""
    try:
        async with asyncio.timeout(read_s):
            while chunk := await reader.read(4096):
                chunks += chunk
    except TimeoutError:
        pass
    writer.close()
    return chunks


async def test_starttls_injection_is_not_executed(listen: Start, pki: TestPki) -> None:
    # CVE-2011-0411: the client pipelines a command after STARTTLS in plaintext; the server
    # must answer only the 220 and read nothing before the handshake.
    listener = await listen(Recorder())
    port = listener.sockets[0][1]
    reader, writer = await asyncio.open_connection(HOST, port)
    await reader.readline()
    writer.write(b"EHLO c.test\r\n")
    while not (await reader.readline()).startswith(b"250 "):
        pass
    writer.write(b"STARTTLS\r\nNOOP\r\n")
    assert (await reader.readline()).startswith(b"220 ")
    await asyncio.sleep(0.2)
    await writer.start_tls(_client_context(pki))
    writer.write(b"NOOP\r\n")
    async with asyncio.timeout(5):
        reply = await reader.readline()
    # The plaintext NOOP was never answered: the first reply over TLS is this NOOP's.
    assert reply.startswith(b"250 ")
    writer.write(b"QUIT\r\n")
    async with asyncio.timeout(5):
        assert (await reader.readline()).startswith(b"221 ")
    writer.close()


async def test_connections_per_address_are_limited(listen: Start) -> None:
    listener = await listen(Recorder(), max_per_address=2)
    port = listener.sockets[0][1]
    held = [await asyncio.open_connection(HOST, port) for _ in range(2)]
    for reader, _ in held:
        assert (await reader.readline()).startswith(b"220 ")
    reader, writer = await asyncio.open_connection(HOST, port)
    async with asyncio.timeout(5):
        assert (await reader.readline()).startswith(b"421 4.7.0")
        assert await reader.read() == b""
    writer.close()
    for _, held_writer in held:
        held_writer.close()


async def test_idle_client_gets_421(listen: Start) -> None:
    listener = await listen(Recorder(), timeouts=SessionTimeouts(idle_s=0.3, total_s=10))
    reader, writer = await asyncio.open_connection(HOST, listener.sockets[0][1])
    async with asyncio.timeout(5):
        assert (await reader.readline()).startswith(b"220 ")
        assert (await reader.readline()).startswith(b"421 4.4.2")
        assert await reader.read() == b""
    writer.close()


async def test_slow_drip_client_hits_the_total_timeout(listen: Start) -> None:
    listener = await listen(Recorder(), timeouts=SessionTimeouts(idle_s=5, total_s=0.6))
    reader, writer = await asyncio.open_connection(HOST, listener.sockets[0][1])
    await reader.readline()

    async def drip() -> None:
        for _ in range(40):  # each byte well inside the idle timeout
            if writer.is_closing() or reader.at_eof():
                return
            writer.write(b"N")
            await asyncio.sleep(0.05)

    dripping = asyncio.create_task(drip())
    async with asyncio.timeout(5):
        rest = await reader.read()
    dripping.cancel()
    assert b"421 4.4.2" in rest
    writer.close()


async def test_pipelined_garbage_and_long_lines(listen: Start) -> None:
    listener = await listen(Recorder())
    out = await _raw(
        listener.sockets[0][1], b"EHLO c.test\r\n" + b"A" * 600 + b"\r\n\x00\x01\xff\r\nNOOP\r\n"
    )
    lines = [line[:3] for line in out.split(b"\r\n") if line[3:4] == b" "]
    assert lines == [b"250", b"500", b"500", b"250"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
@pytest.mark.parametrize(
    ("flag", "works"),
    [
        pytest.param("-tls1", False, id="tls1.0"),
        pytest.param("-tls1_1", False, id="tls1.1"),
        pytest.param("-tls1_2", True, id="tls1.2"),
        pytest.param("-tls1_3", True, id="tls1.3"),
    ],
)
async def test_only_tls_1_2_and_later(listen: Start, flag: str, works: bool) -> None:
    listener = await listen(Recorder(), implicit_tls=True)
    port = listener.sockets[0][1]
    # SECLEVEL=0 lets this client even try the old versions; the server must still refuse.
    command = ["openssl", "s_client", "-connect", f"{HOST_TLS}:{port}", flag]
    command += ["-cipher", "DEFAULT:@SECLEVEL=0", "-brief"]
    result = await asyncio.to_thread(
        subprocess.run, command, input=b"QUIT\r\n", capture_output=True, timeout=20, check=False
    )
    output = result.stdout + result.stderr
    assert (b"CONNECTION ESTABLISHED" in output) is works, output.decode(errors="replace")


async def test_sighup_reload_picks_up_a_new_certificate(listen: Start, pki: TestPki) -> None:
    listener = await listen(Recorder(), implicit_tls=True)
    assert listener.tls is not None
    port = listener.sockets[0][1]

    def served_certificate() -> bytes:
        with smtplib.SMTP_SSL(HOST_TLS, port, context=_client_context(pki), timeout=10) as client:
            assert isinstance(client.sock, ssl.SSLSocket)
            der = client.sock.getpeercert(binary_form=True)
            assert der is not None
            return der

    before = await asyncio.to_thread(served_certificate)
    other = pki.cert_files("other.postillon.test")
    listener.tls.cert_file, listener.tls.key_file = other.cert_path, other.key_path
    listener.reload_tls()
    assert listener.tls.reloads == 1
    after = await asyncio.to_thread(served_certificate)
    expected = ssl.PEM_cert_to_DER_cert(other.cert_path.read_text())
    assert after == expected != before
    # A broken renewal keeps the working certificate.
    listener.tls.key_file = other.cert_path
    listener.reload_tls()
    assert listener.tls.reloads == 1
    assert await asyncio.to_thread(served_certificate) == expected


async def test_close_lets_a_commit_finish_and_says_421_to_everyone(
    listen: Start, pki: TestPki
) -> None:
    door = Recorder(slow_s=0.5)
    listener = await listen(door, implicit_tls=True)
    port = listener.sockets[0][1]
    context = _client_context(pki)
    idle_reader, idle_writer = await asyncio.open_connection(HOST_TLS, port, ssl=context)
    assert (await idle_reader.readline()).startswith(b"220 ")
    reader, writer = await asyncio.open_connection(HOST_TLS, port, ssl=context)
    await reader.readline()
    writer.write(
        b"EHLO c.test\r\nAUTH PLAIN AGFueQBwc3RfZ29vZA==\r\n"
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"
    )
    while not (await reader.readline()).startswith(b"354"):
        pass
    writer.write(b"Subject: s\r\n\r\nbody\r\n.\r\n")
    await asyncio.sleep(0.1)  # the door is now deciding (committing) for 0.5 s
    closing = asyncio.create_task(listener.close(grace_s=5))
    async with asyncio.timeout(5):
        assert (await reader.readline()).startswith(b"250 ")  # the commit finished first
        assert (await reader.readline()).startswith(b"421 4.3.2")
        assert (await idle_reader.readline()).startswith(b"421 4.3.2")
        await closing
    assert len(door.messages) == 1
    assert listener.connections == 0
    writer.close()
    idle_writer.close()


async def test_a_door_that_raises_costs_one_command_not_the_session(
    listen: Start, pki: TestPki
) -> None:
    door = Recorder()
    listener = await listen(door, implicit_tls=True)
    reader, writer = await asyncio.open_connection(
        HOST_TLS, listener.sockets[0][1], ssl=_client_context(pki)
    )
    await reader.readline()
    txn = b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"
    writer.write(b"EHLO c.test\r\nAUTH PLAIN AGFueQBwc3RfZ29vZA==\r\n" + txn)
    writer.write(b"raise\r\n.\r\n" + txn + b"fine\r\n.\r\n")
    finals: list[bytes] = []
    async with asyncio.timeout(5):
        while len(finals) < 10:
            line = await reader.readline()
            assert line, f"closed after {finals}"
            if line[3:4] == b" ":
                finals.append(line[:9])
    assert finals[5] == b"451 4.3.0"
    assert finals[9][:3] == b"250"
    assert len(door.messages) == 1
    writer.close()
