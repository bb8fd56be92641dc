"""A real webhook receiver (aiohttp.web) on a loopback address, for the dispatcher tests
(127.0.0.200-209) and the dashboard's webhook pages' tests (127.0.0.246).

Owns answering each POST as the test's ``respond`` function says (default 204), after checking
the Standard Webhooks signature with the ``standardwebhooks`` library against every secret the
test names (401 if none matches), recording what arrived, and a bounded wait for deliveries.
Binds only the loopback address the test gives, on a port the kernel picks; never connects
anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from standardwebhooks import Webhook

SHUTDOWN_TIMEOUT_S = 2.0
# How long wait_for waits for deliveries; over loopback they take milliseconds.
ARRIVAL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Reply:
    """One response."""

    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One request as received, with which of the receiver's secrets verified it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: tuple[int, ...]  # indexes into the receiver's secrets
    status: int = 0  # what the receiver answered

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


Respond = Callable[[Delivery, int], Reply]
"""The reply to a verified delivery, given it and how many verified ones came before it."""


def verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """True if the library's signature for ``secret``, at the request's own webhook-timestamp,
    is among the signatures sent. (``Webhook.verify`` would also compare the timestamp with the
    real clock; these tests move a FakeClock by days.)"""
    timestamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], timestamp, body.decode())
    expected_mac = base64.b64decode(expected.split(",", 1)[1])
    sent = [part.split(",", 1) for part in headers["webhook-signature"].split(" ")]
    return any(v == "v1" and base64.b64decode(mac) == expected_mac for v, mac in sent)


class HookReceiver:
    """``async with HookReceiver("127.0.0.205") as r: r.secrets.append(s); r.url()``."""

    def __init__(self, host: str, respond: Respond | None = None) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("a test receiver binds a loopback address only")
        self.host = host
        self.port = 0
        self.secrets: list[str] = []
        self.deliveries: list[Delivery] = []  # verified ones only, with their answers
        self.rejected: list[Delivery] = []
        self._respond = respond or (lambda _d, _n: Reply())
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)

    @property
    def accepted(self) -> list[Delivery]:
        """The deliveries answered 2xx, in arrival order."""
        return [d for d in self.deliveries if 200 <= d.status < 300]

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def wait_for(self, count: int) -> list[Delivery]:
        """The verified deliveries once there are ``count`` of them (bounded wait)."""
        async with asyncio.timeout(ARRIVAL_TIMEOUT_S), self._arrived:
            await self._arrived.wait_for(lambda: len(self.deliveries) >= count)
        return list(self.deliveries)

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
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
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = tuple(i for i, s in enumerate(self.secrets) if verifies(s, body, headers))
        delivery = Delivery(request.path, headers, body, verified)
        if not verified:
            self.rejected.append(delivery)
            return web.Response(status=401, body=b"bad signature")
        reply = self._respond(delivery, len(self.deliveries))
        async with self._arrived:
            self.deliveries.append(replace(delivery, status=reply.status))
            self._arrived.notify_all()
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
