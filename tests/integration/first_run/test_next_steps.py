"""``make run`` at a terminal: ``postillon serve`` prints the three lines a newcomer types next
(on stderr, only when it is a terminal: under systemd the journal gets none of it)."""

from __future__ import annotations

import asyncio
import os
import pty
from pathlib import Path

import pytest

from tests.integration.first_run.server import POSTILLON, clean_env, free_port

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.16.9"
# What serve prints before it binds takes well under a second; a loaded machine may need more.
PRINT_TIMEOUT_S = 30.0
READ_CHUNK = 4096


async def test_serve_at_a_terminal_prints_the_next_three_lines(tmp_path: Path) -> None:
    listen = f"{HOST}:{free_port(HOST)}"
    controller, terminal = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        str(POSTILLON),
        "serve",
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=terminal,
        env=clean_env(POSTILLON_HOME=str(tmp_path / "home"), POSTILLON_API__LISTEN=listen),
    )
    os.close(terminal)
    seen = ""
    try:
        async with asyncio.timeout(PRINT_TIMEOUT_S):
            while "first key:" not in seen:
                try:
                    chunk = await asyncio.to_thread(os.read, controller, READ_CHUNK)
                except OSError:  # EIO: the terminal's other side closed (serve exited)
                    break
                if not chunk:
                    break
                seen += chunk.decode(errors="replace")
    finally:
        process.terminate()
        await process.wait()
        os.close(controller)

    assert "source .venv/bin/activate" in seen
    assert f"dashboard: http://{listen}/dashboard" in seen
    assert "first key: postillon keys create --account acme" in seen
