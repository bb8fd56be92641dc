"""The API end to end, as a user meets it: ApacheBench -> ``postillon serve`` -> smtp-sink.

    .venv/bin/python bench/http_e2e.py [--messages 2000] [--backends sqlite,postgresql]
        [--postfix-bench DIR] [--no-postfix] [--latency 200] [--concurrency 20]

A real ``postillon serve`` subprocess (bench/serve_rig.py) with a verified sender domain; the
recipient domain's MX is Postfix's smtp-sink on 127.0.13.2:25, found through a real knot DNS
server. ApacheBench (Debian's apache2-utils, a C load generator: installed if missing) posts
one 4 KiB message per ``POST /v1/emails`` (keep-alive, ``--concurrency`` in flight), then the
same number of messages as ``POST /v1/emails/batch`` of 100. For each: msgs/s end to end
(first POST -> last message at the MX) and ingest alone (ab's time), CPU-ms per message of the
server process (/proc: ingest + sign + store + deliver + record) and its peak RSS. Then
``--latency`` single sends one at a time: POST -> DATA accepted at the MX (the sink's file
mtime), median and p99. Each backend runs in turn (PostgreSQL on a throwaway database of the
local server); then Postfix + OpenDKIM on the same N, in the same run:
``bash <postfix-bench>/postfix_relay.sh DKIM=1 MESSAGES=N`` (``--postfix-bench`` or
``POSTILLON_PEER_BENCH``, default ``bench/peers``). Prints the ratios. Not a test: asserts
nothing about time; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from serve_rig import REPO, SENDER_DOMAIN, Served, Sink, start_dns, start_serve

PEER_DEFAULT = REPO / "bench" / "peers"
PG_ADMIN = os.environ.get("PST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BATCH = 100
MESSAGE_BYTES = 4096
# The longest one phase may take, whatever the machine.
PHASE_TIMEOUT_S = 900.0


def email(index: int, size: int = MESSAGE_BYTES) -> dict[str, object]:
    line = "The quick brown fox jumps over the lazy dog, again and again.\n"
    return {
        "from": {"email": f"news@{SENDER_DOMAIN}", "name": "Bench"},
        "to": f"rcpt{index}@sink13.example",
        "subject": f"bench {index}",
        "text": line * (size // len(line)),
    }


def ensure_ab() -> str:
    found = shutil.which("ab")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-q", "apache2-utils"], check=True, timeout=600)
    return shutil.which("ab") or "/usr/bin/ab"


def run_ab(served: Served, path: str, body: Path, requests: int, concurrency: int) -> float:
    """ab's own duration in seconds; raises if any request was not a 2xx."""
    out = subprocess.run(
        [
            *(ensure_ab(), "-q", "-k", "-n", str(requests), "-c", str(concurrency)),
            *("-p", str(body), "-T", "application/json"),
            *("-H", f"Authorization: Bearer {served.key}", served.base + path),
        ],
        capture_output=True,
        text=True,
        timeout=PHASE_TIMEOUT_S,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"ab exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return _ab_seconds(out.stdout)


def _ab_seconds(out: str) -> float:
    failed = re.search(r"^Failed requests:\s+(\d+)", out, re.M)
    non2xx = re.search(r"^Non-2xx responses:\s+(\d+)", out, re.M)
    if (failed and int(failed.group(1))) or non2xx:
        raise RuntimeError(f"ab saw failures:\n{out}")
    taken = re.search(r"^Time taken for tests:\s+([\d.]+)", out, re.M)
    assert taken is not None, out
    return float(taken.group(1))


def throughput(
    served: Served,
    sink: Sink,
    work: Path,
    n: int,
    c: int,
    *,
    batch: bool,
    profile: Path | None = None,
) -> dict[str, float]:
    sink.clear()
    if batch:
        body = [email(i) for i in range(BATCH)]
        requests = n // BATCH
        path, conc = "/v1/emails/batch", max(1, min(requests, c // 5))
    else:
        body, path, requests, conc = email(0), "/v1/emails", n, c  # type: ignore[assignment]
    file = work / "body.json"
    file.write_text(json.dumps(body))
    total = requests * (BATCH if batch else 1)
    spy = None
    if profile is not None:  # py-spy (pip) samples the server while it works
        spy = subprocess.Popen(
            [
                *("py-spy", "record", "-f", "raw", "-r", "200", "--idle", "--threads"),
                *("-o", str(profile), "-p", str(served.proc.pid)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    cpu0, t0 = served.cpu_s(), time.perf_counter()
    ingest_s = run_ab(served, path, file, requests, conc)
    done = sink.wait_for(total, PHASE_TIMEOUT_S)
    cpu = served.cpu_s() - cpu0
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    return {
        "e2e": total / (done - t0),
        "ingest": total / ingest_s,
        "cpu_ms": 1000 * cpu / total,
        "rss": served.peak_rss_mib(),
    }


def latency(served: Served, sink: Sink, samples: int) -> tuple[float, float]:
    """POST -> DATA accepted at the MX, one message at a time: (median, p99) in ms."""
    sink.clear()
    taken = []
    for i in range(samples):
        time.sleep(0.05)  # an idle node each time
        before = sink.count()
        t0 = time.time()
        served.post("/v1/emails", email(i, 1024))
        sink.wait_for(before + 1, 30)
        taken.append(1000 * (sink.newest_mtime() - t0))
    taken.sort()
    return statistics.median(taken), taken[min(len(taken) - 1, int(0.99 * len(taken)))]


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> dict[str, float]:
    dns = start_dns(work)
    sink = Sink(work)
    database = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'queue.db'}"
    else:
        database = f"pst_bench13_{secrets.token_hex(3)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    try:
        served = start_serve(work, url, dns, f"serve-{backend}.log")
        try:
            served.post("/v1/emails", email(0))  # warm: DNS, signer, pooled connection
            try:
                sink.wait_for(1, 60)
            except TimeoutError:
                print((work / f"serve-{backend}.log").read_text()[-4000:])
                raise
            single = throughput(
                served,
                sink,
                work,
                args.messages,
                args.concurrency,
                batch=False,
                profile=args.py_spy,
            )
            batch = throughput(served, sink, work, args.messages, args.concurrency, batch=True)
            med, p99 = latency(served, sink, args.latency)
        finally:
            served.stop()
    finally:
        sink.stop()
        dns.stop()
        if database is not None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
    print(
        f"postillon serve [{backend}], {args.messages} x 4 KiB, DKIM rsa-2048, "
        f"ab -k -c {args.concurrency}:\n"
        f"  single sends: {single['e2e']:.0f} msgs/s end to end, ingest {single['ingest']:.0f}"
        f" msgs/s, {single['cpu_ms']:.2f} CPU-ms/msg (serve process)\n"
        f"  batches of {BATCH}: {batch['e2e']:.0f} msgs/s end to end, ingest "
        f"{batch['ingest']:.0f} msgs/s, {batch['cpu_ms']:.2f} CPU-ms/msg\n"
        f"  peak RSS {batch['rss']:.0f} MiB; latency POST -> DATA accepted at the MX, one at a"
        f" time ({args.latency}): median {med:.1f} ms, p99 {p99:.1f} ms",
        flush=True,
    )
    return {"single": single["e2e"], "batch": batch["e2e"], "ingest": single["ingest"]}


def run_postfix(peer: Path, messages: int) -> dict[str, float]:
    script = peer / "postfix_relay.sh"
    env = {**os.environ, "DKIM": "1", "MESSAGES": str(messages), "RUNS": "1"}
    out = subprocess.run(
        ["bash", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=PHASE_TIMEOUT_S,
        check=False,
    )
    text = out.stdout + out.stderr
    figure = re.search(r"^FIGURE .*: (\d+) msgs/s", text, re.M)
    injected = re.search(r"injection \(smtpd accept, fsynced\): median (\d+)", text)
    cpu = re.search(r"CPU per message .*?: ([\d.]+) ms", text)
    if figure is None:
        raise RuntimeError(f"postfix_relay.sh gave no figure:\n{text[-3000:]}")
    print(f"Postfix + OpenDKIM (postfix_relay.sh DKIM=1 MESSAGES={messages}):")
    print("  " + "\n  ".join(line for line in out.stdout.splitlines() if line.startswith("  ")))
    return {
        "e2e": float(figure.group(1)),
        "ingest": float(injected.group(1)) if injected else float("nan"),
        "cpu_ms": float(cpu.group(1)) if cpu else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postfix-bench",
        type=Path,
        default=Path(os.environ.get("POSTILLON_PEER_BENCH", PEER_DEFAULT)),
    )
    parser.add_argument("--no-postfix", action="store_true")
    parser.add_argument(
        "--py-spy", type=Path, help="profile the single sends into this file (py-spy raw)"
    )
    args = parser.parse_args()
    ours = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="pst-http-e2e-") as tmp:
            ours[backend] = run_backend(backend, args, Path(tmp))
    if args.no_postfix:
        return
    theirs = run_postfix(args.postfix_bench, args.messages)
    for backend, figures in ours.items():
        print(
            f"RATIO [{backend}] single sends end to end {figures['single'] / theirs['e2e']:.2f}, "
            f"batches {figures['batch'] / theirs['e2e']:.2f}, "
            f"ingest alone {figures['ingest'] / theirs['ingest']:.2f} (Postfix + OpenDKIM "
            f"{theirs['e2e']:.0f} msgs/s end to end, {theirs['ingest']:.0f} injected)"
        )


if __name__ == "__main__":
    main()
