"""A real HTTPS server on a loopback address whose one response each test scripts.

Owns: serving ``ScriptedResponse`` (status, Content-Type, body, redirect, chunked streaming, or a
hang until shutdown) over TLS with the certificate the test chose, and recording every request it
saw. Built for MTA-STS policy hosts (``mta-sts.<domain>`` on port 443). It must not bind anything
but the address the test gives it, and it never makes connections itself.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from aiohttp import web

# Chunk size when streaming a body with chunked transfer encoding.
STREAM_CHUNK_BYTES = 16 * 1024
# How long shutdown waits for handlers still running: they only hang until the closing event.
SHUTDOWN_TIMEOUT_S = 5.0


@dataclass
class ScriptedResponse:
    """What the server answers to every request; tests change it between fetches.

    ``content_type`` None leaves aiohttp's default (application/octet-stream). ``chunked`` streams
    ``body`` without a Content-Length. ``hang`` never answers (until the server stops).
    """

    status: int = 200
    content_type: str | None = "text/plain"
    body: bytes = b""
    location: str | None = None
    chunked: bool = False
    hang: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeenRequest:
    """One request as received: method, path and Host header (and for a POST, its
    Content-Type and body)."""

    method: str
    path: str
    host: str | None
    content_type: str | None = None
    body: bytes = b""


class HttpsServer:
    """An aiohttp.web server on ``host:port`` with TLS from ``ssl_context``; use ``async with``."""

    def __init__(self, host: str, ssl_context: ssl.SSLContext, *, port: int = 443) -> None:
        self.host = host
        self.port = port
        self.response = ScriptedResponse()
        self.requests: list[SeenRequest] = []
        self._ssl_context = ssl_context
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)

    async def start(self) -> None:
        """Listen; returns once the socket is bound."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self._ssl_context)
        await site.start()

    async def stop(self) -> None:
        """Release hanging handlers, stop listening and close connections."""
        self._closing.set()
        await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read() if request.method == "POST" else b""
        content_type = request.headers.get("Content-Type")
        self.requests.append(
            SeenRequest(request.method, request.path, request.host, content_type, body)
        )
        scripted = self.response
        if scripted.hang:
            await self._closing.wait()
            raise web.HTTPServiceUnavailable()
        headers = dict(scripted.headers)
        if scripted.location is not None:
            headers["Location"] = scripted.location
        if scripted.content_type is not None:
            headers["Content-Type"] = scripted.content_type
        if not scripted.chunked:
            return web.Response(status=scripted.status, body=scripted.body, headers=headers)
        response = web.StreamResponse(status=scripted.status, headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(scripted.body), STREAM_CHUNK_BYTES):
                await response.write(scripted.body[start : start + STREAM_CHUNK_BYTES])
            await response.write_eof()
        except ConnectionError:
            pass  # the client stopped reading, as a capped reader should
        return response
