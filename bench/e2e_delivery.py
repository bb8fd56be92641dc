"""End to end: enqueue N DKIM-signed messages, deliver them to smtp-sink; Postfix side by side.

    .venv/bin/python bench/e2e_delivery.py [--messages 5000] [--size 4096] [--no-postfix]

postillon: each message is signed (RSA-2048, our signer) and enqueued by 20 concurrent
submitters through the API's ingest path (grouped ingest on the single writer, durable commits
in SQLite WAL, synchronous=FULL), as the API does before its 202; then a Node drains the queue
through MX lookup (a real knot server serving the bench zone) to Postfix's smtp-sink on
127.0.0.1:22525 over pooled, pipelined connections. Postfix: bench/peers/postfix_relay.sh
with DRAIN=1 and DKIM=1 (smtp-source injects into a throwaway Postfix whose opendkim milter signs;
the queue is held, then released and timed while qmgr+smtp drain it to the same sink).
Prints msgs/s and peak memory for each, and the ratio. Bounded: every wait has a deadline.
Not a test: asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.dns_server import TestDns

from postillon.app import Node
from postillon.clock import SystemClock
from postillon.config.settings import (
    DeliverySettings,
    DkimSettings,
    DnsSettings,
    MtaStsSettings,
    Settings,
    StorageSettings,
)
from postillon.dkim import DkimSigner, generate_rsa_key, sign_message
from postillon.queue.status import RecipientStatus
from postillon.storage.idempotency_sql import SqlIngest
from postillon.storage.records import NewMessage, NewRecipient
from postillon.storage.transactions import Transactions

SINK_PORT = 22525
INGEST_SESSIONS = 20
DOMAIN = "bench.example"
# The longest one side may take, whatever the machine.
DEADLINE_S = 900.0
PEER_SCRIPT = Path(__file__).resolve().parent / "peers" / "postfix_relay.sh"


def make_body(i: int, size: int) -> bytes:
    head = (
        f"From: Sender <sender@{DOMAIN}>\r\nTo: Recipient <rcpt{i}@sink.example>\r\n"
        f"Subject: bench {i}\r\nMessage-ID: <{i}.bench@{DOMAIN}>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    ).encode()
    line = b"The quick brown fox jumps over the lazy dog, again and again.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_postillon(messages: int, size: int, work: Path, dns: TestDns) -> dict[str, float]:
    settings = Settings(
        storage=StorageSettings(url=f"sqlite:///{work / 'queue.db'}"),
        dns=DnsSettings(nameservers=(dns.nameserver,)),
        delivery=DeliverySettings(
            helo_name="mta.bench.example",
            smtp_port=SINK_PORT,
            poll_interval_s=0.05,
            allow_private_destinations=("127.0.0.0/8",),  # the sink listens on loopback
        ),
        mta_sts=MtaStsSettings(enabled=False),
        dkim=DkimSettings(master_key_file=work / "dkim-master.key"),
    )
    clock = SystemClock()
    node = Node(settings, clock=clock)
    await node.migrate()
    account = await node.store.ensure_account("bench")
    signer = DkimSigner(DOMAIN, "bench", generate_rsa_key(), clock)
    # The send service's ingest: concurrent requests are stored in groups, one commit each.
    ingest = SqlIngest(Transactions(node.store.engines, clock))
    sender = f"bounces@{DOMAIN}"

    async def submit(worker: int) -> None:
        # INGEST_SESSIONS concurrent submitters, as smtp-source's sessions are for Postfix.
        for i in range(worker, messages, INGEST_SESSIONS):
            body = sign_message(make_body(i, size), [signer])
            message = NewMessage(
                account_id=account.id,
                mail_from=sender,
                recipients=(NewRecipient(f"rcpt{i}@sink.example"),),
                body=body,
            )
            await ingest.enqueue(
                (message,),
                mail_from=lambda _index, _id: sender,
                idempotency=None,
                respond=lambda _results: {},
            )

    t0 = time.perf_counter()
    await asyncio.gather(*(submit(w) for w in range(INGEST_SESSIONS)))
    ingest_s = time.perf_counter() - t0
    stop = asyncio.Event()
    t1 = time.perf_counter()
    runner = asyncio.create_task(node.engine.run(stop))
    async with asyncio.timeout(DEADLINE_S):
        while True:
            await asyncio.sleep(0.1)
            left = await node.store.list_queue(limit=1)
            if not left:
                break
    drain_s = time.perf_counter() - t1
    stop.set()
    await runner
    page = await node.store.list_queue(limit=1, status=RecipientStatus.DEFERRED)
    assert not page, "a message was deferred: the run does not count"
    stats = node.pool.stats
    await node.close()
    return {
        "ingest": messages / ingest_s,
        "drain": messages / drain_s,
        "rss": peak_rss_mib(),
        "opened": stats.opened,
        "reused": stats.reused,
    }


def start_sink(work: Path) -> subprocess.Popen[bytes]:
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    proc = subprocess.Popen(
        [sink, "-u", "nobody", f"127.0.0.1:{SINK_PORT}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=(work / "sink.log").open("wb"),
    )
    time.sleep(0.3)
    return proc


def run_postfix(messages: int, size: int) -> tuple[float | None, str]:
    env = {**os.environ, "MESSAGES": str(messages), "SIZE": str(size), "RUNS": "1", "DRAIN": "1"}
    env["DKIM"] = "1"
    out = subprocess.run(
        ["bash", str(PEER_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    match = re.search(r"^FIGURE .*: (\d+) msgs/s", out.stdout, re.M)
    rss = _postfix_note(out.stdout + out.stderr)
    return (float(match.group(1)) if match else None), rss


def _postfix_note(text: str) -> str:
    lines = [ln for ln in text.splitlines() if "delivered" in ln or "FIGURE" in ln]
    return "\n".join(lines[-3:]) if lines else text[-1500:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--no-postfix", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pst-bench-") as tmp:
        work = Path(tmp)
        dns = TestDns(work / "knot")
        dns.add_zone(f"{DOMAIN}.", "")
        dns.add_zone("sink.example.", "@ MX 10 mx\nmx A 127.0.0.1")
        sink = start_sink(work)
        try:
            dns.start()
            ours = asyncio.run(run_postillon(args.messages, args.size, work, dns))
        finally:
            dns.stop()
            sink.terminate()
            sink.wait(10)
    print(
        f"{datetime.now(UTC):%Y-%m-%d} postillon, {args.messages} msgs of {args.size} B, "
        f"DKIM rsa-2048 at ingest: ingest {ours['ingest']:.0f} msgs/s "
        f"({INGEST_SESSIONS} submitters, grouped ingest), "
        f"drain {ours['drain']:.0f} msgs/s, peak RSS {ours['rss']:.0f} MiB, "
        f"connections opened {ours['opened']:.0f}, reused {ours['reused']:.0f}"
    )
    if args.no_postfix:
        return
    if not PEER_SCRIPT.exists():
        print(f"no peer script at {PEER_SCRIPT}; skipping Postfix")
        return
    theirs, note = run_postfix(args.messages, args.size)
    print(f"postfix (DRAIN=1 DKIM=1): {note}")
    if theirs:
        print(f"RATIO postillon/postfix queue drain: {ours['drain'] / theirs:.2f}")


if __name__ == "__main__":
    main()
