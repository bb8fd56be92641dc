"""A deep queue: 1,000,000 queued recipients bulk-loaded, the claim's query plans, a node's RSS.

    .venv/bin/python bench/queue_depth.py [--recipients 1000000] [--backends sqlite,postgresql]

Migrates a fresh database (SQLite file, or a throwaway PostgreSQL database on the local
server), bulk-loads ``--recipients`` recipients in plain SQL (messages of 100 recipients each,
all waiting: half due now, half scheduled a day ahead), prints the plan of the claim's query
(storage/claims.py ``due_query``: EXPLAIN QUERY PLAN / EXPLAIN ANALYZE) so one can see that a
claim reads an index range in order and stops at its LIMIT, and times a few claims. On SQLite
it then starts a real ``postillon serve`` on the
loaded file (every recipient moved a century ahead first, so its engine polls and claims but
delivers nothing) and on an empty one, and prints both peak RSS figures after the same time.
Not a test: asserts nothing; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from postillon.clock import SystemClock
from postillon.storage.claims import due_query
from postillon.storage.sql_store import SqlStore

PER_MESSAGE = 100
CLAIM = 256  # recipients per claim: what a node with 64 free slots asks for
PG_ADMIN = os.environ.get("PST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[1]
IDLE_S = 8.0  # the node polls (1 s) and sweeps several times before its RSS is read

_LOAD = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {count})
INSERT INTO {table} {select}
"""


def load_sqlite(path: Path, count: int) -> None:
    db = sqlite3.connect(path)
    db.execute("INSERT INTO accounts VALUES ('acct', 'bench', '2026-01-01 00:00:00.000000')")
    messages = count // PER_MESSAGE
    db.execute(
        _LOAD.format(
            count=messages,
            table="messages (id, account_id, mail_from, body, size, subject, header_message_id,"
            " from_header, tags, metadata, created_at)",
            select="SELECT printf('m%09d', i), 'acct', 'b@bench.example', zeroblob(4096), 4096,"
            " 's', '<x@bench.example>', 'b@bench.example', '[]', '{}',"
            " '2026-01-01 00:00:00.000000' FROM n",
        )
    )
    now = datetime.now(UTC)
    due = now.strftime("%Y-%m-%d %H:%M:%S.000000")
    later = (now + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S.000000")
    db.execute(
        _LOAD.format(
            count=count,
            table="recipients (id, message_id, address, domain, status, attempts,"
            " next_attempt_at, possible_duplicate, updated_at)",
            select=f"SELECT printf('r%09d', i), printf('m%09d', i / {PER_MESSAGE}),"
            " printf('u%d@sink.example', i), 'sink.example', 'queued', 0,"
            f" CASE WHEN i % 2 = 0 THEN '{due}' ELSE '{later}' END, 0, '{due}' FROM n",
        )
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def load_postgres(url: str, count: int) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("INSERT INTO accounts VALUES ('acct', 'bench', now())")
        db.execute(
            "INSERT INTO messages (id, account_id, mail_from, body, size, subject,"
            " header_message_id, from_header, tags, metadata, created_at)"
            " SELECT 'm' || lpad(i::text, 9, '0'), 'acct', 'b@bench.example',"
            " decode(repeat('78', 4096), 'hex'), 4096, 's', '<x@bench.example>',"
            " 'b@bench.example', '[]', '{}', now() FROM generate_series(0, %s) AS i",
            (count // PER_MESSAGE - 1,),
        )
        db.execute(
            "INSERT INTO recipients (id, message_id, address, domain, status, attempts,"
            " next_attempt_at, possible_duplicate, updated_at)"
            " SELECT 'r' || lpad(i::text, 9, '0'), 'm' || lpad((i / %s)::text, 9, '0'),"
            " 'u' || i || '@sink.example', 'sink.example', 'queued', 0,"
            " CASE WHEN i %% 2 = 0 THEN now() ELSE now() + interval '1 day' END, false, now()"
            " FROM generate_series(0, %s) AS i",
            (PER_MESSAGE, count - 1),
        )
        db.execute("ANALYZE")


def claim_plan(dialect: str, execute: Callable[[str], Iterable[Sequence[object]]]) -> None:
    query = due_query(datetime.now(UTC), CLAIM)
    target: Dialect = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = query.compile(dialect=target, compile_kwargs={"literal_binds": True})
    text = str(compiled).replace("\n", " ")
    print(f"  claim query: {text}")
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    for row in execute(explain + text):
        print("    " + " | ".join(str(v) for v in row))


async def time_claims(url: str) -> None:
    store = SqlStore.from_url(url, SystemClock())
    try:
        for _ in range(3):
            t0 = time.perf_counter()
            jobs = await store.claim_due("bench", datetime.now(UTC), 600.0, CLAIM)
            taken = 1000 * (time.perf_counter() - t0)
            leased = sum(len(job.recipients) for job in jobs)
            print(f"  claim of {leased} recipients ({len(jobs)} jobs): {taken:.1f} ms")
    finally:
        await store.close()


def serve_rss(work: Path, db: Path) -> float:
    config = work / f"{db.stem}.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{db}"\n[api]\nlisten = "127.0.13.1:28014"\n'
        f'[mta_sts]\nenabled = false\n[dkim]\nmaster_key_file = "{work / "master.key"}"\n'
    )
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/postillon"), "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(IDLE_S)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        return int(rss.split()[1]) / 1024
    finally:
        proc.terminate()
        proc.wait(30)


def run_sqlite(count: int, work: Path) -> None:
    empty, full = work / "empty.db", work / "full.db"
    for path in (empty, full):
        store = SqlStore.from_url(f"sqlite:///{path}", SystemClock())
        asyncio.run(_migrate(store))
    t0 = time.perf_counter()
    load_sqlite(full, count)
    print(f"SQLite: {count} recipients bulk-loaded in {time.perf_counter() - t0:.0f} s")
    db = sqlite3.connect(full)
    claim_plan("sqlite", lambda text: db.execute(text).fetchall())
    db.close()
    asyncio.run(time_claims(f"sqlite:///{full}"))
    # The node below runs its engine (role all): nothing may be due, or it would try to
    # deliver the million to a domain that does not resolve.
    db = sqlite3.connect(full)
    db.execute("UPDATE recipients SET next_attempt_at = '2100-01-01 00:00:00.000000'")
    db.commit()
    db.close()
    print(
        f"  postillon serve (engine polling), peak RSS after {IDLE_S:.0f} s: empty queue "
        f"{serve_rss(work, empty):.0f} MiB, {count} queued {serve_rss(work, full):.0f} MiB"
    )


def run_postgres(count: int) -> None:
    name = f"pst_bench13_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        asyncio.run(_migrate(SqlStore.from_url(url, SystemClock())))
        t0 = time.perf_counter()
        load_postgres(url, count)
        print(f"PostgreSQL: {count} recipients bulk-loaded in {time.perf_counter() - t0:.0f} s")
        with psycopg.connect(url, autocommit=True) as db:
            claim_plan("postgresql", lambda text: db.execute(text).fetchall())
        asyncio.run(time_claims(url))
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


async def _migrate(store: SqlStore) -> None:
    try:
        await store.migrate()
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="pst-depth-") as tmp:
            run_sqlite(args.recipients, Path(tmp))
    if "postgresql" in backends:
        run_postgres(args.recipients)


if __name__ == "__main__":
    main()
