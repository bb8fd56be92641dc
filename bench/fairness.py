"""Tenant fairness, as the issue's targets put it: one account's backlog, another's single sends.

    .venv/bin/python bench/fairness.py [--backlog 50000] [--probes 200] [--backends sqlite]

A real ``postillon serve`` subprocess (bench/serve_rig.py, moved to this bench's addresses,
127.0.20.x) with two accounts, each with its own API key and verified sender domain. Tenant A
("bulk") posts ``--backlog`` 4 KiB messages as ``POST /v1/emails/batch`` of 100 with
ApacheBench (keep-alive, 4 in flight) to recipients whose MX is Postfix's smtp-sink on
127.0.20.2:25, found through a real knot DNS server. Phase 1: A alone, A's throughput end to
end (first POST -> last message at the MX). Phase 2: the same again, and once every A request
has been answered (A's whole backlog accepted, much of it still queued), tenant B ("tx") sends
single messages one at a time, ``--gap-ms`` apart, to a second smtp-sink (127.0.20.3:25, so
its arrivals can be told apart): POST -> DATA accepted at B's MX (the sink file's mtime),
median and p99, with A's queue depth at each probe (accepted minus arrived). Then A's
throughput with B beside it, and the ratio. Both accounts send transactional mail (the
default stream), so what B gains comes from the turns between accounts, not from streams.
Not a test: asserts nothing about time; every wait is bounded.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

import serve_rig
from serve_rig import Served, Sink, postillon, start_dns, start_serve, zone_lines

# This bench's own loopback addresses and names (serve_rig's defaults are bench/http_e2e.py's).
serve_rig.API_ADDRESS = "127.0.20.1"
serve_rig.API_PORT = 28020
serve_rig.DNS_ADDRESS = "127.0.20.53"
serve_rig.SENDER_DOMAIN = "bulk20.example"
serve_rig.RECIPIENT_DOMAIN = "sink20.example"
A_MX = "127.0.20.2"
B_MX = "127.0.20.3"
B_SENDER_DOMAIN = "tx20.example"
B_RECIPIENT_DOMAIN = "txsink20.example"

PG_ADMIN = os.environ.get("PST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BATCH = 100
A_CONCURRENCY = 4
MESSAGE_BYTES = 4096
# The longest one phase may take, whatever the machine.
PHASE_TIMEOUT_S = 1800.0
# B's probes stop when A's queue is shallower than this share of the backlog: the rest would
# measure an idle node, not one behind a backlog.
MIN_DEPTH_FRACTION = 0.1


def email(sender: str, to: str, index: int, size: int) -> dict[str, object]:
    line = "The quick brown fox jumps over the lazy dog, again and again.\n"
    return {
        "from": {"email": f"news@{sender}", "name": "Bench"},
        "to": to,
        "subject": f"fairness {index}",
        "text": line * (size // len(line)),
    }


def sink_at(work: Path, name: str, address: str) -> Sink:
    """An smtp-sink on ``address``:25 (serve_rig's Sink reads its address at construction)."""
    directory = work / name
    directory.mkdir()
    work.chmod(0o755)  # the sink writes as nobody, below it
    serve_rig.MX_ADDRESS = address
    return Sink(directory)


def second_tenant(served: Served, config: Path, dns: Any) -> Served:
    """Account "tx" with its own key and verified sender domain, on the same server."""
    created = subprocess.run(
        postillon("keys", "create", "--account", "tx", config=config),
        capture_output=True,
        text=True,
        check=True,
        timeout=serve_rig.START_TIMEOUT_S,
    )
    match = re.search(r"pst_\S+", created.stdout)
    if match is None:
        raise RuntimeError(f"no key in: {created.stdout}{created.stderr}")
    tenant = dataclasses.replace(served, key=match.group(0))
    added = tenant.post("/v1/domains", {"name": B_SENDER_DOMAIN})
    dns.add_zone(f"{B_SENDER_DOMAIN}.", zone_lines(added["records"]))
    verified = tenant.post(f"/v1/domains/{B_SENDER_DOMAIN}/verify", None)
    if verified["status"] != "verified":
        raise RuntimeError(f"B's sender domain not verified: {verified}")
    return tenant


def start_backlog(served: Served, work: Path, backlog: int) -> subprocess.Popen[str]:
    """ApacheBench posting A's backlog as batches of 100, in the background."""
    body = [
        email(serve_rig.SENDER_DOMAIN, f"r{i}@{serve_rig.RECIPIENT_DOMAIN}", i, MESSAGE_BYTES)
        for i in range(BATCH)
    ]
    file = work / "batch.json"
    file.write_text(json.dumps(body))
    return subprocess.Popen(
        [
            *("ab", "-q", "-k", "-n", str(backlog // BATCH), "-c", str(A_CONCURRENCY)),
            *("-p", str(file), "-T", "application/json"),
            *("-H", f"Authorization: Bearer {served.key}"),
            served.base + "/v1/emails/batch",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish_ab(proc: subprocess.Popen[str]) -> None:
    out, _ = proc.communicate(timeout=PHASE_TIMEOUT_S)
    failed = re.search(r"^Failed requests:\s+(\d+)", out, re.M)
    if proc.returncode != 0 or (failed and int(failed.group(1))) or "Non-2xx" in out:
        raise RuntimeError(f"ab saw failures:\n{out}")


def a_alone(served: Served, sink: Sink, work: Path, backlog: int) -> float:
    """A's msgs/s end to end with nobody else sending."""
    sink.clear()
    t0 = time.perf_counter()
    finish_ab(start_backlog(served, work, backlog))
    done = sink.wait_for(backlog, PHASE_TIMEOUT_S)
    return backlog / (done - t0)


def a_with_b(
    served: Served, tenant: Served, sinks: tuple[Sink, Sink], work: Path, args: Any
) -> dict[str, Any]:
    """A's backlog again; B probes once A's backlog is all accepted."""
    a_sink, b_sink = sinks
    a_sink.clear()
    b_sink.clear()
    t0 = time.perf_counter()
    finish_ab(start_backlog(served, work, args.backlog))
    taken: list[float] = []
    depths: list[int] = []
    for i in range(args.probes):
        depth = args.backlog - a_sink.count()
        if depth < args.backlog * MIN_DEPTH_FRACTION:
            break
        depths.append(depth)
        sent = time.time()
        tenant.post(
            "/v1/emails",
            email(B_SENDER_DOMAIN, f"reset{i}@{B_RECIPIENT_DOMAIN}", i, 1024),
        )
        b_sink.wait_for(i + 1, 60)
        taken.append(1000 * (b_sink.newest_mtime() - sent))
        time.sleep(args.gap_ms / 1000)
    done = a_sink.wait_for(args.backlog, PHASE_TIMEOUT_S)
    taken.sort()
    return {
        "a_rate": args.backlog / (done - t0),
        "probes": len(taken),
        "median": statistics.median(taken) if taken else float("nan"),
        "p99": taken[min(len(taken) - 1, int(0.99 * len(taken)))] if taken else float("nan"),
        "max": taken[-1] if taken else float("nan"),
        "depth": (min(depths), max(depths)) if depths else (0, 0),
    }


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> None:
    serve_rig.MX_ADDRESS = A_MX
    dns = start_dns(work)
    dns.add_zone(f"{B_RECIPIENT_DOMAIN}.", f"@ MX 10 mx\nmx A {B_MX}")
    a_sink = sink_at(work, "a", A_MX)
    b_sink = sink_at(work, "b", B_MX)
    database = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'queue.db'}"
    else:
        database = f"pst_bench20_{secrets.token_hex(3)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    try:
        served = start_serve(work, url, dns, f"serve-{backend}.log")
        try:
            tenant = second_tenant(served, work / "postillon.toml", dns)
            tenant.post("/v1/emails", email(B_SENDER_DOMAIN, f"warm@{B_RECIPIENT_DOMAIN}", 0, 1024))
            try:
                b_sink.wait_for(1, 60)
            except TimeoutError:
                print((work / f"serve-{backend}.log").read_text()[-4000:])
                raise
            alone = a_alone(served, a_sink, work, args.backlog)
            shared = a_with_b(served, tenant, (a_sink, b_sink), work, args)
        finally:
            served.stop()
    finally:
        a_sink.stop()
        b_sink.stop()
        dns.stop()
        if database is not None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
    low, high = shared["depth"]
    print(
        f"postillon serve [{backend}], tenant A: {args.backlog} x 4 KiB in batches of {BATCH} "
        f"(ab -k -c {A_CONCURRENCY}), DKIM rsa-2048:\n"
        f"  A alone: {alone:.0f} msgs/s end to end; A with B probing: "
        f"{shared['a_rate']:.0f} msgs/s ({100 * (shared['a_rate'] / alone - 1):+.1f} %)\n"
        f"  B, one message at a time ({shared['probes']} probes, {args.gap_ms} ms apart) while "
        f"A had {low}-{high} queued: POST -> DATA accepted at B's MX median "
        f"{shared['median']:.1f} ms, p99 {shared['p99']:.1f} ms, max {shared['max']:.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--gap-ms", type=int, default=100)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="pst-fairness-") as tmp:
            run_backend(backend, args, Path(tmp))


if __name__ == "__main__":
    main()
