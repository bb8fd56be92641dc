"""SMTP submission end to end: smtp-source into our listener, delivered to smtp-sink; Postfix
smtpd + OpenDKIM the same way, side by side.

    .venv/bin/python bench/submission.py [--messages 5000] [--size 4096] [--no-postfix]
                                         [--peer-dir bench/peers]

postillon: smtp-source (C, Postfix's, 20 sessions, connections reused) into a test-only
plaintext listener on 127.0.14.2:2587, because smtp-source speaks neither STARTTLS nor AUTH.
That listener runs the real submission door: each connection is authenticated with an API key
(the door's own authenticate, once per connection, as AUTH would), each MAIL re-checks the key,
charges the rate limit and checks the sender domain; each message is normalised, DKIM-signed
(RSA-2048) and stored by the send service before its 250; a Node delivers at the same time
through MX lookup (knot on 127.0.14.53) to smtp-sink on 127.0.14.30:25. Postfix: the peer
script postfix_relay.sh with DKIM=1 (smtp-source into a throwaway smtpd whose opendkim milter
signs, relayed to smtp-sink), end to end too. Both clocks run from the first injected message
to the empty queue; CPU-ms per message is machine-wide (/proc/stat, all processes), as the peer
script counts it. The peer script is found by --peer-dir, $POSTILLON_PEER_BENCH, or
bench/peers. Every wait has a deadline. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.services.publish import publish
from tests.support.dns_server import TestDns

from postillon.app import Node
from postillon.clock import SystemClock
from postillon.config.settings import (
    ApiSettings,
    DeliverySettings,
    DkimSettings,
    DnsSettings,
    MtaStsSettings,
    Settings,
    StorageSettings,
)
from postillon.smtp.sasl import Credentials, Mechanism
from postillon.smtp.server_events import Hello, MailFrom, MessageData, RcptTo
from postillon.smtp.server_reply import ServerReply
from postillon.smtp.server_session import ServerConfig
from postillon.storage.records import MessageFilter
from postillon.submission.auth_throttle import AuthThrottle
from postillon.submission.door import SubmissionDoor
from postillon.transport.server_handler import ConnectionHandler, PeerInfo
from postillon.transport.smtp_listener import ListenerConfig, SmtpListener

LISTEN = ("127.0.14.2", 2587)
SINK = "127.0.14.30"
SOURCE = "127.0.14.31"  # our outbound address (named in the SPF record we publish)
DNS_ADDRESS = "127.0.14.53"
SESSIONS = 20
DOMAIN = "bench.example"
# The longest one side may take, whatever the machine.
DEADLINE_S = 900.0
DEFAULT_PEERS = Path(__file__).resolve().parent / "peers"


class _PreAuthenticated:
    """The submission door with AUTH done by us at the first MAIL of each connection (with
    the door's own authenticate), because smtp-source cannot send AUTH."""

    def __init__(self, door: SubmissionDoor, key: str) -> None:
        self.door, self.key = door, key

    def connection(self, peer: PeerInfo) -> ConnectionHandler:
        return _Conn(self.door.connection(peer), self.key)


class _Conn:
    def __init__(self, inner: ConnectionHandler, key: str) -> None:
        self.inner, self.key, self.authenticated = inner, key, False

    async def hello(self, event: Hello) -> ServerReply | None:
        return await self.inner.hello(event)

    async def authenticate(self, credentials: Credentials) -> ServerReply | None:
        return await self.inner.authenticate(credentials)

    async def mail_from(self, event: MailFrom) -> ServerReply | None:
        if not self.authenticated:
            refused = await self.inner.authenticate(Credentials(Mechanism.PLAIN, "b", self.key))
            assert refused is None, refused
            self.authenticated = True
        return await self.inner.mail_from(event)

    async def rcpt_to(self, event: RcptTo) -> ServerReply | None:
        return await self.inner.rcpt_to(event)

    async def message(self, event: MessageData) -> ServerReply | None:
        return await self.inner.message(event)

    def tls_started(self) -> None:
        self.inner.tls_started()


def cpu_busy_jiffies() -> int:
    """Busy jiffies of the whole machine (all cores), as the peer script reads them."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    return sum(values) - values[3] - values[4]  # minus idle and iowait


async def run_postillon(messages: int, size: int, work: Path, dns: TestDns) -> dict[str, float]:
    settings = Settings(
        storage=StorageSettings(url=f"sqlite:///{work / 'queue.db'}"),
        api=ApiSettings(rate_per_s=1e6, rate_burst=1_000_000),
        dns=DnsSettings(nameservers=(dns.nameserver,)),
        delivery=DeliverySettings(
            helo_name="mta.bench.example",
            bind_addresses=(SOURCE,),
            allow_private_destinations=("127.0.0.0/8",),  # the sink listens on loopback
            poll_interval_s=0.05,
        ),
        mta_sts=MtaStsSettings(enabled=False),
        dkim=DkimSettings(master_key_file=work / "dkim-master.key"),
    )
    clock = SystemClock()
    node = Node(settings, clock=clock)
    await node.migrate()
    services = node.services
    _, key = await services.keys.create("bench")
    account = await services.keys.authenticate(key)
    assert account is not None
    added = await services.domains.add(account, DOMAIN)
    publish(dns, f"{DOMAIN}.", added.records)
    verified = await services.domains.verify(account, DOMAIN)
    assert verified.status.value == "verified", verified
    door = SubmissionDoor(
        hostname="smtp.bench.example",
        keys=services.keys,
        sending=services.sending,
        limiter=node.limiter,
        throttle=AuthThrottle(clock, max_failures=5, window_s=300),
    )
    session = ServerConfig(hostname="smtp.bench.example", max_message_octets=10 * 1024 * 1024)
    listener = SmtpListener(
        ListenerConfig(addresses=(LISTEN,), session=session, max_per_address=SESSIONS + 5),
        _PreAuthenticated(door, key),
        None,
    )
    await listener.start()
    stop = asyncio.Event()
    runner = asyncio.create_task(node.engine.run(stop))
    source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    busy0, t0 = cpu_busy_jiffies(), time.perf_counter()
    injector = await asyncio.create_subprocess_exec(
        source, "-4", "-d", "-s", str(SESSIONS), "-m", str(messages), "-l", str(size),
        "-f", f"sender@{DOMAIN}", "-t", "rcpt@sink.example", f"{LISTEN[0]}:{LISTEN[1]}",
    )  # fmt: skip
    async with asyncio.timeout(DEADLINE_S):
        await injector.wait()
        injected_s = time.perf_counter() - t0
        while await node.store.list_queue(limit=1):  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.05)
    elapsed_s = time.perf_counter() - t0
    busy = cpu_busy_jiffies() - busy0
    stop.set()
    await runner
    page = await node.store.list_messages(MessageFilter(account_id=account.id), limit=1)
    stored = await _count(node, account.id)
    await listener.close()
    await node.close()
    assert injector.returncode == 0, "smtp-source failed"
    assert stored == messages, f"stored {stored} of {messages}"
    assert page.items
    assert page.items[0].recipients[0].status.value == "delivered"
    return {
        "inject": messages / injected_s,
        "e2e": messages / elapsed_s,
        "cpu_ms": 1000 * busy / os.sysconf("SC_CLK_TCK") / messages,
    }


async def _count(node: Node, account_id: str) -> int:
    total, cursor = 0, None
    while True:
        page = await node.store.list_messages(
            MessageFilter(account_id=account_id), limit=100, cursor=cursor
        )
        total += len(page.items)
        if page.next_cursor is None:
            return total
        cursor = page.next_cursor


def start_sink(work: Path) -> subprocess.Popen[bytes]:
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    proc = subprocess.Popen(
        [sink, "-u", "nobody", f"{SINK}:25", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=(work / "sink.log").open("wb"),
    )
    time.sleep(0.3)
    return proc


def run_postfix(peers: Path, messages: int, size: int) -> tuple[float | None, str]:
    env = {**os.environ, "MESSAGES": str(messages), "SIZE": str(size), "RUNS": "1", "DKIM": "1"}
    out = subprocess.run(
        ["bash", str(peers / "postfix_relay.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    match = re.search(r"^FIGURE .*: (\d+) msgs/s", out.stdout, re.M)
    lines = [ln for ln in (out.stdout + out.stderr).splitlines() if "run 1" in ln or "FIG" in ln]
    return (float(match.group(1)) if match else None), "\n".join(lines) or out.stderr[-1500:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--no-postfix", action="store_true")
    parser.add_argument(
        "--peer-dir",
        type=Path,
        default=Path(os.environ.get("POSTILLON_PEER_BENCH", DEFAULT_PEERS)),
    )
    args = parser.parse_args()
    # Per-message log lines would cost CPU the peer does not spend: warnings only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory(prefix="pst-bench-sub-") as tmp:
        work = Path(tmp)
        dns = TestDns(work / "knot", address=DNS_ADDRESS)
        dns.add_zone(f"{DOMAIN}.", "")
        dns.add_zone("sink.example.", f"@ MX 10 mx\nmx A {SINK}")
        sink = start_sink(work)
        try:
            dns.start()
            ours = asyncio.run(run_postillon(args.messages, args.size, work, dns))
        finally:
            dns.stop()
            sink.terminate()
            sink.wait(10)
    print(
        f"{datetime.now(UTC):%Y-%m-%d} postillon submission, {args.messages} msgs of "
        f"{args.size} B, {SESSIONS} smtp-source sessions, plain listener (no TLS/AUTH on the "
        f"wire), DKIM rsa-2048: accepted {ours['inject']:.0f} msgs/s, end to end "
        f"{ours['e2e']:.0f} msgs/s, {ours['cpu_ms']:.2f} CPU-ms/msg (machine)"
    )
    if args.no_postfix:
        return
    if not (args.peer_dir / "postfix_relay.sh").exists():
        print(f"no peer script in {args.peer_dir}; skipping Postfix")
        return
    theirs, note = run_postfix(args.peer_dir, args.messages, args.size)
    print(f"postfix (DKIM=1, end to end):\n{note}")
    if theirs:
        print(f"RATIO postillon/postfix end to end: {ours['e2e'] / theirs:.2f}")


if __name__ == "__main__":
    main()
