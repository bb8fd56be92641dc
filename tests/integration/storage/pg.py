"""Throwaway PostgreSQL databases for tests: created per session, dropped at the end.

Owns naming (``pst_test_<random>``), creating, emptying and dropping them through the server's
admin database. The server is ``PST_TEST_PG`` (default: the CI's trust-auth server on
127.0.0.1:5432). Must not touch any database it did not create.
"""

from __future__ import annotations

import os
import secrets

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("PST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# Fail fast when the server is down, instead of hanging a test session.
CONNECT_TIMEOUT_S = 5


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    return psycopg.conninfo.make_conninfo(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname=parsed.database or "postgres",
        connect_timeout=CONNECT_TIMEOUT_S,
    )


class PgDatabase:
    """One fresh database on the test server (``create`` first, ``drop`` at the end)."""

    def __init__(self, prefix: str = "pst_test") -> None:
        self.name = f"{prefix}_{secrets.token_hex(4)}"
        self.url = make_url(ADMIN_URL).set(database=self.name).render_as_string(False)

    def create(self) -> PgDatabase:
        with psycopg.connect(_conninfo(ADMIN_URL), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        return self

    def truncate_all(self) -> None:
        """Empty every table but alembic's (the schema stays migrated)."""
        with psycopg.connect(_conninfo(self.url), autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version'"
                )
            ]
            if tables:
                names = sql.SQL(", ").join(sql.Identifier(t) for t in tables)
                conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))

    def drop(self) -> None:
        with psycopg.connect(_conninfo(ADMIN_URL), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
