"""``postillon serve`` and ``postillon queue`` as an operator runs them.

SIGTERM while a transaction is in flight: the server finishes it, records it, and exits 0.
The queue commands read and act on the same database the server uses.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from postillon.cli import cli
from postillon.clock import SystemClock
from postillon.queue.status import RecipientStatus
from postillon.storage.sql_store import SqlStore
from tests.integration.engine.conftest import new_message
from tests.integration.engine.test_crash import start_server, write_config
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory
from tests.support.hostile import HostilePeer, HostileServer

pytestmark = pytest.mark.timeout(60)

# How long the slow MX keeps the reply to the final dot: long enough for SIGTERM to land
# mid-transaction, far below the drain timeout.
FINAL_DOT_DELAY_S = 1.5


async def test_sigterm_finishes_the_transaction_in_flight(
    tmp_path: Path, test_dns: TestDns
) -> None:
    body_in = asyncio.Event()

    async def slow_final_dot(peer: HostilePeer) -> None:
        await peer.greet_and_ehlo("PIPELINING", "8BITMIME")
        await peer.expect(b"MAIL")
        await peer.expect(b"RCPT")
        await peer.expect(b"DATA")
        await peer.send(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n")
        await peer.read_until_dot()
        body_in.set()
        await asyncio.sleep(FINAL_DOT_DELAY_S)
        await peer.send(b"250 2.0.0 queued as SLOW\r\n")
        await peer.expect(b"QUIT")
        await peer.send(b"221 2.0.0 bye\r\n")

    origin = test_dns.new_origin("drain")
    test_dns.add_zone(origin, "@ MX 10 mx\nmx A 127.0.0.151")
    domain = origin.rstrip(".")
    db, config, log = tmp_path / "queue.db", tmp_path / "postillon.toml", tmp_path / "serve.log"
    write_config(config, db, test_dns.nameserver, api_host="127.0.0.151")
    store = SqlStore.from_url(f"sqlite:///{db}", SystemClock())
    await store.migrate()
    account = await store.ensure_account("drain")
    queued = await store.enqueue(new_message(account.id, [f"slow@{domain}"]))
    async with HostileServer("127.0.0.151", slow_final_dot):
        server = await start_server(config, log)
        try:
            async with asyncio.timeout(20):
                await body_in.wait()
            server.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                code = await server.wait()
        finally:
            if server.returncode is None:
                server.kill()
                await server.wait()
    view = await store.get_message(queued.message_id)
    await store.close()
    assert code == 0, log.read_text()[-2000:]
    assert view is not None
    [rcpt] = view.recipients
    assert rcpt.status is RecipientStatus.DELIVERED
    assert rcpt.last_reply_text is not None
    assert "queued as SLOW" in rcpt.last_reply_text


def test_queue_commands(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    env = {"POSTILLON_STORAGE__URL": f"sqlite:///{db}"}

    async def setup() -> str:
        store = SqlStore.from_url(f"sqlite:///{db}", SystemClock())
        await store.migrate()
        account = await store.ensure_account("ops")
        queued = await store.enqueue(new_message(account.id, ["someone@example.net"]))
        await store.close()
        return queued.message_id

    message_id = asyncio.run(setup())
    runner = CliRunner()

    listed = runner.invoke(cli, ["queue", "ls"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "someone@example.net" in listed.output
    assert "queued" in listed.output

    shown = runner.invoke(cli, ["queue", "show", message_id], env=env)
    assert shown.exit_code == 0, shown.output
    assert "someone@example.net: queued after 0 attempt(s)" in shown.output

    retried = runner.invoke(cli, ["queue", "retry", message_id], env=env)
    assert retried.exit_code == 0, retried.output
    assert "1 recipient(s) due now" in retried.output

    deleted = runner.invoke(cli, ["queue", "delete", message_id], env=env)
    assert deleted.exit_code == 0, deleted.output
    gone = runner.invoke(cli, ["queue", "show", message_id], env=env)
    assert gone.exit_code == 1
    assert f"no message {message_id}" in gone.output


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[delivery]\nsmtp_prot = 25\n")
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 1
    assert "delivery.smtp_prot: unknown setting" in result.output


async def wait_listening(host: str, port: int, timeout_s: float = 20) -> None:
    """Until something accepts connections on ``host:port`` (bounded)."""
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


async def test_roles_split_the_api_from_delivery(
    tmp_path: Path, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    rx = await smtp_receiver("127.0.0.154")
    origin = test_dns.new_origin("roles")
    test_dns.add_zone(origin, "@ MX 10 mx\nmx A 127.0.0.154")
    domain = origin.rstrip(".")
    db, log = tmp_path / "queue.db", tmp_path / "serve.log"
    api_config, worker_config = tmp_path / "api.toml", tmp_path / "worker.toml"
    write_config(api_config, db, test_dns.nameserver, api_host="127.0.0.152")
    write_config(worker_config, db, test_dns.nameserver, api_host="127.0.0.153")
    store = SqlStore.from_url(f"sqlite:///{db}", SystemClock())
    await store.migrate()
    account = await store.ensure_account("roles")
    queued = await store.enqueue(new_message(account.id, [f"r@{domain}"]))

    api = await start_server(api_config, log, role="api")
    try:
        await wait_listening("127.0.0.152", 8025)  # the API answers...
    finally:
        api.send_signal(signal.SIGTERM)
        assert await api.wait() == 0, log.read_text()[-2000:]
    view = await store.get_message(queued.message_id)
    assert view is not None
    assert view.recipients[0].status is RecipientStatus.QUEUED  # ...and delivers nothing
    assert rx.connections == 0

    worker = await start_server(worker_config, log, role="worker")
    try:
        await rx.wait_for(1, timeout_s=20)  # the worker delivers...
        with pytest.raises(ConnectionRefusedError):  # ...and listens on no API socket
            await asyncio.open_connection("127.0.0.153", 8025)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert await worker.wait() == 0, log.read_text()[-2000:]
    await store.close()
