"""A node's start line names its database without the password."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from postillon.app import Node
from postillon.config.settings import DkimSettings, Settings, StorageSettings
from postillon.roles import Role
from tests.integration.storage.pg import PgDatabase

pytestmark = pytest.mark.timeout(60)

PASSWORD = "not-needed-by-trust-auth"


async def test_the_start_log_redacts_the_database_password(tmp_path: Path) -> None:
    database = PgDatabase().create()
    try:
        url = make_url(database.url).set(password=PASSWORD).render_as_string(False)
        settings = Settings(
            storage=StorageSettings(url=url),
            dkim=DkimSettings(master_key_file=tmp_path / "dkim-master.key"),
        )
        node = Node(settings, role=Role.WORKER)
        stop = asyncio.Event()
        stop.set()
        with capture_logs() as logs:
            await node.run(stop)
    finally:
        database.drop()
    [started] = [entry for entry in logs if entry["event"] == "node.started"]
    assert PASSWORD not in repr(logs)
    assert started["storage"].startswith("postgresql")
    assert ":**********@" in started["storage"]
