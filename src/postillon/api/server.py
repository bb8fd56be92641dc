"""Serving the API with uvicorn inside postillon's own event loop.

Owns the listening socket (bound here, so a bad ``[api] listen`` is a :class:`ConfigError`
naming the key, not uvicorn's ``sys.exit``) and the server's life: :class:`ApiServer` starts
and stops one; :func:`serve_api` runs one until an event is set. uvicorn's own signal handlers
are not installed: the composition root owns SIGTERM/SIGINT and sets the stop event.
Must not build the app (see :mod:`.application`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from postillon.config.settings import Settings
from postillon.errors import ConfigError

log = structlog.get_logger("postillon.api")

LISTEN_KEY = "api.listen"
# On stop, requests in flight get this long to finish before their tasks are cancelled.
GRACEFUL_SHUTDOWN_S = 10.0
# How long start() waits for uvicorn to report it is serving.
STARTUP_TIMEOUT_S = 10.0
# Client connections idle longer than this are closed (uvicorn's keep-alive timeout); a
# little above common proxies' 60 s would leave them to close first, we stay well under.
KEEP_ALIVE_S = 30


def parse_listen(listen: str) -> tuple[str, int]:
    """``"host:port"`` (IPv6 as ``"[::1]:8025"``) as (host, port); raises ConfigError."""
    host, sep, port_text = listen.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise ConfigError(f"{LISTEN_KEY}: {listen!r} is not host:port (IPv6 as [addr]:port)")
    return host, int(port_text)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (ours decide when to stop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """One uvicorn server for ``app`` on ``[api] listen``."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self._host, self._port = parse_listen(settings.api.listen)
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_keep_alive=KEEP_ALIVE_S,
            timeout_graceful_shutdown=int(GRACEFUL_SHUTDOWN_S),
            # Forwarded headers only from the proxies the operator named (uvicorn would
            # otherwise believe any local process, or FORWARDED_ALLOW_IPS).
            proxy_headers=bool(settings.api.trusted_proxies),
            forwarded_allow_ips=list(settings.api.trusted_proxies),
        )
        self._server = _Server(config)
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when ``listen`` asked for port 0)."""
        if self._socket is None:
            return self._host, self._port
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        """Bind and start serving; returns once uvicorn accepts connections.

        Raises ConfigError when the address cannot be bound, RuntimeError if uvicorn stops
        during startup.
        """
        self._socket = _bind(self._host, self._port)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not self._server.started:
                if self._task.done():
                    await self._task
                    raise RuntimeError("the API server stopped while starting")
                await asyncio.sleep(0.01)
        log.info("api.started", listen=f"{self.address[0]}:{self.address[1]}")

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to the grace period), close."""
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._task = None
        log.info("api.stopped")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as exc:
        raise ConfigError(f"{LISTEN_KEY}: cannot listen on {host}:{port}: {exc}") from exc
    sock.setblocking(False)
    return sock


async def serve_api(app: FastAPI, settings: Settings, stop: asyncio.Event) -> None:
    """Serve ``app`` on ``[api] listen`` until ``stop`` is set, then shut down gracefully."""
    server = ApiServer(app, settings)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()
