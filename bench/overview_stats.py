"""The dashboard overview's statistics on a large account: query time per range, both backends.

    .venv/bin/python bench/overview_stats.py [--messages 20000] [--queue 3000] [--repeat 7]
        [--body-bytes 4096] [--backends sqlite,postgresql] [--sqlite-analyze] [--explain]

Each backend gets a fresh database migrated by ``SqlStore.migrate`` (so the indexes are the real
ones): SQLite a file in a temporary directory, PostgreSQL a scratch database on ``PST_TEST_PG``
(default the local trust-auth server), dropped at the end. Two accounts are seeded with the same
shape, interleaved in time as production writes them (rows in id order, attempts in time order):
N one-recipient messages each over the last 30 days; about 80% delivered at the first attempt,
17% deferred then delivered, 2% bounced (some after a deferral), 1% suppressed; the most
TLS-delivered; ``--queue`` recipients of the last 3 days still waiting (half queued, half
deferred). Seeding bypasses the engine: bulk inserts on the drivers (sqlite3 executemany,
PostgreSQL binary COPY), then ANALYZE on PostgreSQL (what autovacuum does soon after) and
nothing on SQLite (the service never runs ANALYZE; ``--sqlite-analyze`` does). Events and tags
are not seeded.

``SqlStats.overview`` is then timed for each range the page offers (24 hours by the hour, 7 and
30 days by the day), ``--repeat`` times after one connection warm-up; its totals are checked
against the seeded data. The plan of each statement is read (EXPLAIN QUERY PLAN / EXPLAIN) and
any full scan of messages, recipients or attempts is named; ``--explain`` prints the plans.
Not a test: asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy import event
from tests.integration.storage.pg import PgDatabase

from postillon.clock import FakeClock
from postillon.dashboard.overview_views import RANGES
from postillon.queue.status import RecipientStatus
from postillon.storage.ids import new_id
from postillon.storage.sql_store import SqlStore
from postillon.storage.stats_sql import Counts, SqlStats
from postillon.storage.transactions import Transactions

SPAN = timedelta(days=30)
WAITING_SPAN = timedelta(days=3)  # the waiting recipients' messages are this recent
DOMAINS = tuple(f"mail{n}.example" for n in range(20))
SUPPRESSED_REASON = "address on the account's suppression list"
MESSAGE_COLUMNS = (
    ("id", "varchar"),
    ("account_id", "varchar"),
    ("mail_from", "varchar"),
    ("body", "bytea"),
    ("size", "int4"),
    ("subject", "text"),
    ("header_message_id", "text"),
    ("from_header", "text"),
    ("tags", "jsonb"),
    ("metadata", "jsonb"),
    ("created_at", "timestamptz"),
    ("scheduled_at", "timestamptz"),
)
RECIPIENT_COLUMNS = (
    ("id", "varchar"),
    ("message_id", "varchar"),
    ("address", "varchar"),
    ("domain", "varchar"),
    ("status", "varchar"),
    ("attempts", "int4"),
    ("next_attempt_at", "timestamptz"),
    ("lease_owner", "varchar"),
    ("lease_until", "timestamptz"),
    ("last_reply_code", "int4"),
    ("last_enhanced_code", "varchar"),
    ("last_reply_text", "text"),
    ("bounce_class", "varchar"),
    ("possible_duplicate", "bool"),
    ("updated_at", "timestamptz"),
)
ATTEMPT_COLUMNS = (  # "id" is left to the sequence: insertion order is time order
    ("recipient_id", "varchar"),
    ("started_at", "timestamptz"),
    ("duration_ms", "int4"),
    ("mx_host", "varchar"),
    ("ip", "varchar"),
    ("tls_used", "bool"),
    ("tls_version", "varchar"),
    ("tls_cipher", "varchar"),
    ("tls_verified", "bool"),
    ("tls_reason", "text"),
    ("mta_sts_mode", "varchar"),
    ("mta_sts_policy_id", "varchar"),
    ("reply_code", "int4"),
    ("enhanced_code", "varchar"),
    ("reply_text", "text"),
    ("transcript", "text"),
)
TABLES = {"messages": MESSAGE_COLUMNS, "recipients": RECIPIENT_COLUMNS, "attempts": ATTEMPT_COLUMNS}
# Full scans of these (or of ``later``, stats_sql's alias of attempts) are what indexes avoid;
# so is a search of the messages index on the account alone: it reads the account's whole
# history, whatever the window.
SQLITE_FULL_SCAN = re.compile(r"^SCAN (messages|recipients|attempts|later)\b")
SQLITE_WHOLE_ACCOUNT = re.compile(r"^SEARCH messages USING .*INDEX \w+ \(account_id=\?\)$")
PG_FULL_SCAN = re.compile(r"Seq Scan on (messages|recipients|attempts)\b")
# The statements of SqlStats.overview, in the order it runs them.
STATEMENT_NAMES = ("accepted", "attempted", "queue", "oldest")

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Sizes:
    messages: int  # per account
    queue: int  # waiting recipients per account
    body_bytes: int
    sqlite_analyze: bool  # run ANALYZE after seeding SQLite (the service never does)


@dataclass
class Seed:
    """The rows to insert, and what the measured account's overview must count."""

    messages: list[Row] = field(default_factory=list)
    recipients: list[Row] = field(default_factory=list)
    attempts: list[Row] = field(default_factory=list)
    accepted: list[tuple[datetime, bool]] = field(default_factory=list)  # (created, suppressed)
    # (started, 0 delivered | 1 deferred | 2 bounced, over TLS, verified)
    tried: list[tuple[datetime, int, bool, bool]] = field(default_factory=list)
    queued: int = 0
    deferred: int = 0


@dataclass(frozen=True)
class Encoding:
    """How one driver takes times and JSON (SQLite: SQLAlchemy's naive UTC text)."""

    time: Callable[[datetime | None], Any]
    empty_list: Any
    empty_object: Any


def _sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"


SQLITE_ENCODING = Encoding(time=_sqlite_time, empty_list="[]", empty_object="{}")
PG_ENCODING = Encoding(time=lambda value: value, empty_list=[], empty_object={})


def make_body(size: int) -> bytes:
    """A receipt-like HTML message of ``size`` bytes (compressible, like real mail)."""
    head = (
        b"From: Shop <receipts@shop.example>\r\nSubject: Your receipt\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    )
    line = b"<tr><td>Item</td><td>1</td><td>12.50 EUR</td></tr><!-- order details -->\r\n"
    return (head + line * (size // len(line) + 1))[:size]


@dataclass
class _Generator:
    """Rows for one account in one encoding; fills ``seed`` (and its expectations if measured)."""

    seed: Seed
    enc: Encoding
    now: datetime
    rng: Random
    body: bytes

    def account(self, account_id: str, sizes: Sizes, *, measured: bool) -> None:
        created = sorted(self.now - SPAN * self.rng.random() for _ in range(sizes.messages))
        recent = [i for i, at in enumerate(created) if at >= self.now - WAITING_SPAN]
        waiting = set(self.rng.sample(recent, min(sizes.queue, len(recent))))
        for i, at in enumerate(created):
            message_id = new_id(at, self.rng.randbytes)
            scheduled = None
            if i in waiting and self.rng.random() < 0.05:
                scheduled = self.now + timedelta(days=2 * self.rng.random())
            self.seed.messages.append(
                (
                    message_id,
                    account_id,
                    "receipts@shop.example",
                    self.body,
                    len(self.body),
                    f"Your receipt {i}",
                    f"<{i}.{account_id}@shop.example>",
                    "Shop <receipts@shop.example>",
                    self.enc.empty_list,
                    self.enc.empty_object,
                    self.enc.time(at),
                    self.enc.time(scheduled),
                )
            )
            self._recipient(message_id, i, at, scheduled, waiting=i in waiting, measured=measured)

    def _recipient(
        self,
        message_id: str,
        i: int,
        at: datetime,
        scheduled: datetime | None,
        *,
        waiting: bool,
        measured: bool,
    ) -> None:
        rng = self.rng
        recipient_id = new_id(at, rng.randbytes)
        first = at + timedelta(seconds=0.5 + 4 * rng.random())
        retry = first + min(timedelta(minutes=5 + 175 * rng.random()), (self.now - first) * 0.9)
        draw = rng.random()
        plan: list[tuple[datetime, int]]
        next_at: datetime | None = None
        bounce_class = None
        if waiting:
            if scheduled is not None or rng.random() < 0.5:
                status, plan, next_at = RecipientStatus.QUEUED, [], scheduled or at
            else:
                status, plan = RecipientStatus.DEFERRED, [(first, 1)]
                next_at = self.now + timedelta(hours=rng.random())
        elif draw < 0.01:
            status, plan = RecipientStatus.SUPPRESSED, []
        elif draw < 0.03:
            status, bounce_class = RecipientStatus.BOUNCED, "bad_mailbox"
            plan = [(first, 2)] if rng.random() < 0.7 else [(first, 1), (retry, 2)]
        elif draw < 0.20:
            status, plan = RecipientStatus.DELIVERED, [(first, 1), (retry, 0)]
        else:
            status, plan = RecipientStatus.DELIVERED, [(first, 0)]
        last_reply: tuple[int | None, str | None, str | None] = (None, None, None)
        if status is RecipientStatus.SUPPRESSED:
            last_reply = (None, None, SUPPRESSED_REASON)
        for started, kind in plan:
            last_reply = self._attempt(recipient_id, started, kind, measured=measured)
        domain = DOMAINS[i % len(DOMAINS)]
        self.seed.recipients.append(
            (
                recipient_id,
                message_id,
                f"customer{i}@{domain}",
                domain,
                status.value,
                len(plan),
                self.enc.time(next_at),
                None,
                None,
                *last_reply,
                bounce_class,
                False,
                self.enc.time(plan[-1][0] if plan else at),
            )
        )
        if measured:
            self.seed.accepted.append((at, status is RecipientStatus.SUPPRESSED))
            self.seed.queued += status is RecipientStatus.QUEUED
            self.seed.deferred += status is RecipientStatus.DEFERRED

    def _attempt(
        self, recipient_id: str, started: datetime, kind: int, *, measured: bool
    ) -> tuple[int, str, str]:
        tls = self.rng.random() < 0.96
        verified = tls and self.rng.random() < 0.92
        code, enhanced, text = (
            (250, "2.0.0", "OK queued as 4XyZ"),
            (451, "4.7.1", "Greylisted, try again later"),
            (550, "5.1.1", "No such user"),
        )[kind]
        self.seed.attempts.append(
            (
                recipient_id,
                self.enc.time(started),
                int(50 + 400 * self.rng.random()),
                "mx1.mail.example",
                "192.0.2.25",
                tls,
                "TLSv1.3" if tls else None,
                "TLS_AES_256_GCM_SHA384" if tls else None,
                verified if tls else None,
                None if tls else "STARTTLS not offered",
                None,
                None,
                code,
                enhanced,
                text,
                None,
            )
        )
        if measured:
            self.seed.tried.append((started, kind, tls, verified))
        return code, enhanced, text


def generate(accounts: Sequence[str], sizes: Sizes, now: datetime, enc: Encoding) -> Seed:
    """Rows for ``accounts`` (the first is measured), in the order production would write them:
    messages and recipients by id (time), attempts by start."""
    seed = Seed()
    gen = _Generator(seed, enc, now, Random(7), make_body(sizes.body_bytes))
    for n, account_id in enumerate(accounts):
        gen.account(account_id, sizes, measured=n == 0)
    seed.messages.sort(key=lambda row: str(row[0]))
    seed.recipients.sort(key=lambda row: str(row[0]))
    seed.attempts.sort(key=lambda row: row[1])
    return seed


def expected(seed: Seed, start: datetime, end: datetime) -> Counts:
    """What the overview must total over [start, end) for the measured account."""
    accepted = [suppressed for at, suppressed in seed.accepted if start <= at < end]
    tried = [(kind, tls, ok) for at, kind, tls, ok in seed.tried if start <= at < end]
    return Counts(
        sent=accepted.count(False),
        suppressed=accepted.count(True),
        delivered=sum(kind == 0 for kind, _, _ in tried),
        deferred=sum(kind == 1 for kind, _, _ in tried),
        bounced=sum(kind == 2 for kind, _, _ in tried),
        delivered_over_tls=sum(kind == 0 and tls for kind, tls, _ in tried),
        delivered_verified=sum(kind == 0 and ok for kind, _, ok in tried),
    )


# -- seeding, on the drivers ----------------------------------------------------------------------


def seed_sqlite(path: Path, seed: Seed, *, analyze: bool) -> None:
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for table, columns in TABLES.items():
            names = ", ".join(name for name, _ in columns)
            marks = ", ".join("?" for _ in columns)
            rows: list[Row] = getattr(seed, table)
            conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        if analyze:
            conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def seed_postgresql(url: str, seed: Seed) -> None:
    with psycopg.connect(url) as conn:
        for table, columns in TABLES.items():
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n, _ in columns)
            )
            with conn.cursor().copy(copy_sql) as copy:
                copy.set_types([kind for _, kind in columns])
                for row in getattr(seed, table):
                    copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class RangeResult:
    key: str
    times_ms: list[float]
    statement_ms: list[float]  # median of each statement, in the order overview() runs them
    full_scans: list[str]
    plans: list[tuple[str, list[str]]]  # (statement, plan lines)


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    ms: float  # from execute to its return: the whole aggregate, for these queries


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[Statement]]:
    """The SELECTs ``engine`` runs inside the block, with their parameters and times."""
    seen: list[Statement] = []
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        elapsed = (time.perf_counter() - started.pop()) * 1000
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(Statement(statement, parameters, elapsed))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


async def plans_of(store: SqlStore, statements: list[Statement]) -> list[list[str]]:
    """Each statement's plan, a line per step (SQLite: the detail column)."""
    postgres = store.dialect == "postgresql"
    found = []
    async with store.engines.reader.connect() as conn:
        for statement in statements:
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            rows = await conn.exec_driver_sql(prefix + statement.sql, statement.parameters)
            found.append([str(row[-1]) for row in rows])
    return found


def full_scans(dialect: str, plans: list[list[str]]) -> list[str]:
    """What the plans read in full: ``table`` (statement number) for each full scan."""
    found = []
    for n, plan in enumerate(plans):
        name = STATEMENT_NAMES[n] if len(plans) == len(STATEMENT_NAMES) else f"#{n + 1}"
        for line in plan:
            if dialect == "postgresql":
                match = PG_FULL_SCAN.search(line)
            else:
                match = SQLITE_FULL_SCAN.search(line)
                if SQLITE_WHOLE_ACCOUNT.search(line):
                    found.append(f"{name}: messages of the whole account")
            if match:
                found.append(f"{name}: {match.group(1)}")
    return found


async def measure(
    url: str, account_id: str, seed: Seed, now: datetime, repeat: int
) -> tuple[list[RangeResult], dict[str, int], int]:
    """Time each range, check its totals, read its plans; then row counts and the size."""
    store = SqlStore.from_url(url, FakeClock(now))
    stats = SqlStats(Transactions(store.engines, FakeClock(now)))
    results: list[RangeResult] = []
    try:
        async with store.engines.reader.connect() as conn:  # open the pool's connection
            await conn.execute(sa.text("SELECT 1"))
        for key, choice in RANGES.items():
            window = choice.window(now)
            times: list[float] = []
            per_statement: list[list[float]] = []
            for _ in range(repeat):
                with captured(store.engines.reader.sync_engine) as statements:
                    started = time.perf_counter()
                    overview = await stats.overview(account_id, window, now)
                    times.append((time.perf_counter() - started) * 1000)
                per_statement.append([statement.ms for statement in statements])
            want = expected(seed, window.start, window.end)
            if overview.totals != want or (overview.queue.queued, overview.queue.deferred) != (
                seed.queued,
                seed.deferred,
            ):
                raise RuntimeError(f"{key}: counted {overview.totals}, seeded {want}")
            plans = await plans_of(store, statements)
            results.append(
                RangeResult(
                    key,
                    times,
                    [statistics.median(column) for column in zip(*per_statement, strict=True)],
                    full_scans(store.dialect, plans),
                    [(s.sql, p) for s, p in zip(statements, plans, strict=True)],
                )
            )
        counts = {}
        async with store.engines.reader.connect() as conn:
            for table in TABLES:
                query = sa.text(f"SELECT count(*) FROM {table}")
                counts[table] = int((await conn.execute(query)).scalar_one())
            if store.dialect == "postgresql":
                query = sa.text("SELECT pg_database_size(current_database())")
                size = int((await conn.execute(query)).scalar_one())
            else:
                size = sum(
                    p.stat().st_size for p in Path(url[len("sqlite:///") :]).parent.iterdir()
                )
        return results, counts, size
    finally:
        await store.close()


async def prepare(url: str) -> list[str]:
    """Migrate ``url`` and create the two accounts; their ids, the measured one first."""
    store = SqlStore.from_url(url, FakeClock(datetime.now(UTC)))
    try:
        await store.migrate()
        return [(await store.ensure_account(name)).id for name in ("measured", "neighbour")]
    finally:
        await store.close()


@dataclass
class BackendRun:
    backend: str
    seed_s: float
    counts: dict[str, int]
    size: int
    ranges: list[RangeResult]


def run_backend(backend: str, sizes: Sizes, repeat: int, work: Path) -> BackendRun:
    now = datetime.now(UTC)
    database = PgDatabase("pst_bench").create() if backend == "postgresql" else None
    url = database.url if database else f"sqlite:///{work / 'overview.db'}"
    try:
        accounts = asyncio.run(prepare(url))
        started = time.perf_counter()
        encoding = PG_ENCODING if database else SQLITE_ENCODING
        seed = generate(accounts, sizes, now, encoding)
        if database:
            seed_postgresql(database.url, seed)
        else:
            seed_sqlite(work / "overview.db", seed, analyze=sizes.sqlite_analyze)
        seed_s = time.perf_counter() - started
        ranges, counts, size = asyncio.run(measure(url, accounts[0], seed, now, repeat))
        return BackendRun(backend, seed_s, counts, size, ranges)
    finally:
        if database:
            database.drop()


def report(runs: list[BackendRun], sizes: Sizes, explain: bool) -> None:
    print(
        f"{datetime.now(UTC):%Y-%m-%d} postillon overview stats: {sizes.messages} msgs x 2"
        f" accounts, queue {sizes.queue}/account, body {sizes.body_bytes} B"
    )
    for run in runs:
        rows = ", ".join(f"{table} {count}" for table, count in run.counts.items())
        print(
            f"  {run.backend:<10} {rows}; {run.size / 2**20:.0f} MiB; seeded in {run.seed_s:.0f} s"
        )
    parts = " ".join(f"{name:>9}" for name in STATEMENT_NAMES)
    print(f"  {'backend':<10} {'range':<5} {'median ms':>9} {'max ms':>8} | {parts}  (median ms)")
    for run in runs:
        for result in run.ranges:
            median, worst = statistics.median(result.times_ms), max(result.times_ms)
            each = " ".join(f"{ms:9.1f}" for ms in result.statement_ms)
            print(f"  {run.backend:<10} {result.key:<5} {median:9.1f} {worst:8.1f} | {each}")
    print("  full scans (statement: table):")
    for run in runs:
        for result in run.ranges:
            scans = "; ".join(result.full_scans) or "none"
            print(f"  {run.backend:<10} {result.key:<5} {scans}")
    if not explain:
        return
    for run in runs:
        for result in run.ranges:
            for statement, plan in result.plans:
                print(f"\n-- {run.backend} {result.key}: {' '.join(statement.split())[:160]}")
                print("\n".join(f"   {line}" for line in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="per account")
    parser.add_argument("--queue", type=int, default=3_000, help="waiting recipients per account")
    parser.add_argument("--body-bytes", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--sqlite-analyze", action="store_true", help="ANALYZE SQLite after seeding"
    )
    parser.add_argument("--explain", action="store_true", help="print every statement's plan")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if not set(backends) <= {"sqlite", "postgresql"} or args.messages < 1 or args.repeat < 1:
        parser.error("backends are sqlite and/or postgresql; messages and repeat at least 1")
    sizes = Sizes(args.messages, args.queue, args.body_bytes, args.sqlite_analyze)
    runs = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="pst-overview-bench-") as tmp:
            runs.append(run_backend(backend, sizes, args.repeat, Path(tmp)))
    report(runs, sizes, args.explain)


if __name__ == "__main__":
    main()
