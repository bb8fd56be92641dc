"""A ``postillon serve`` subprocess as ``make run`` starts it: default config, no config file,
its state in a temporary data directory (``POSTILLON_HOME``), on a free port of 127.0.16.x.

Loopback addresses 127.0.16.1 to 127.0.16.9 belong to the first-run tests (issue 16's range).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# The venv's console script, as `make run` runs it (.venv/bin/postillon).
POSTILLON = Path(sys.executable).parent / "postillon"
# Startup takes well under a second; a loaded shared machine may need more.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


def free_port(host: str) -> int:
    """A port nothing listens on at ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without POSTILLON_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTILLON_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Served:
    """A running server: where it listens, its data directory and its output files."""

    base_url: str
    listen: str
    home: Path
    stdout: Path
    stderr: Path
    process: asyncio.subprocess.Process


@asynccontextmanager
async def served(tmp_path: Path, host: str, **env: str) -> AsyncIterator[Served]:
    """Start ``postillon serve`` (no config file, data in ``tmp_path / "home"``), wait for
    ``/healthz``, and stop it with SIGTERM at the end."""
    home = tmp_path / "home"
    listen = f"{host}:{free_port(host)}"
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            str(POSTILLON),
            "serve",
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
            env=clean_env(POSTILLON_HOME=str(home), POSTILLON_API__LISTEN=listen, **env),
        )
    server = Served(f"http://{listen}", listen, home, out, err, process)
    try:
        await _wait_healthy(server)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_healthy(server: Served) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                if server.process.returncode is not None:
                    raise AssertionError(f"serve exited: {server.stderr.read_text()[-2000:]}")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
