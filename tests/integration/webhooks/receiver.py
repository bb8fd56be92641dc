"""A real webhook receiver (aiohttp.web) on a 127.0.0.8x loopback address, for the sender tests.

Owns: answering each POST with the next scripted :class:`Answer` (the last one repeats), an
optional check run on every request (signature verification with the ``standardwebhooks``
library), and recording what arrived (path, Host header, headers, body). Binds only the
address the test gives it, on a free port the kernel picks; it never connects anywhere.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from aiohttp import web

# Shutdown waits this long for handlers still running (hanging ones are released first).
SHUTDOWN_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Answer:
    """One scripted response; ``hang`` never answers until the receiver stops."""

    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass(frozen=True)
class Arrival:
    """One request as received."""

    path: str
    host: str | None
    headers: dict[str, str]
    body: bytes


Check = Callable[[bytes, dict[str, str]], Answer | None]
"""Run on each request before the script: an Answer to send instead, or None to go on."""


class WebhookReceiver:
    """``async with WebhookReceiver("127.0.0.80", [Answer(503), Answer(204)]) as r: r.url(...)``."""

    def __init__(
        self,
        host: str,
        answers: Sequence[Answer] = (Answer(),),
        *,
        check: Check | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # Each suite owns its loopback range: the webhook tests 127.0.0.80-89, the return-path
        # tests (issue 15) 127.0.15.x; never anything but loopback.
        if not host.startswith(("127.0.0.8", "127.0.15.")):
            raise ValueError("webhook receivers bind 127.0.0.80-89 or 127.0.15.x only")
        self.host = host
        self.port = 0
        self.arrivals: list[Arrival] = []
        self._answers = list(answers)
        self._check = check
        self._ssl_context = ssl_context
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        """The URL of ``path`` here; ``host`` replaces the address (a name the test resolves)."""
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0, ssl_context=self._ssl_context)
        await site.start()
        (address,) = self._runner.addresses
        self.port = int(address[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.arrivals.append(Arrival(request.path, request.host, headers, body))
        answer = self._check(body, headers) if self._check is not None else None
        if answer is None:
            index = min(len(self.arrivals), len(self._answers)) - 1
            answer = self._answers[index]
        if answer.hang:
            await self._closing.wait()
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)
