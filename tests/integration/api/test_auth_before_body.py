"""The gate answers before the body: no key, a bad key or an empty bucket never has its body
read, and a request that proved nothing (the dashboard) may carry only a small one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postillon.api.auth_gate import UNAUTHENTICATED_BODY_BYTES, AuthGate
from postillon.api.rate_limit import RateLimit, RateLimiter
from tests.integration.api.conftest import World

BIG_BODY = b"[" + b" " * (2 * 1024 * 1024) + b"]"


async def call(
    app: ASGIApp, path: str, authorization: bytes | None
) -> tuple[int, dict[str, Any], int]:
    """POST ``BIG_BODY`` to ``path`` in-process; the status, JSON answer and body reads."""
    reads = 0
    sent: list[Message] = []
    headers = [(b"content-type", b"application/json"), (b"host", b"api.test")]
    if authorization is not None:
        headers.append((b"authorization", authorization))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.17.9", 5000),
        "server": ("127.0.17.2", 8025),
    }

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": BIG_BODY, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(int(m["status"]) for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body) if body.startswith(b"{") else {}, reads


async def test_no_key_is_401_without_reading_the_body(world: World) -> None:
    app = world.app()
    for authorization in (None, b"Bearer pst_" + b"A" * 43, b"Basic eDp5", b"Bearer "):
        status, answer, reads = await call(app, "/v1/emails/batch", authorization)
        assert status == 401
        assert answer["error"] == {
            "type": "unauthorized",
            "message": "send a valid API key as Authorization: Bearer pst_...",
            "fields": [],
        }
        assert reads == 0


async def test_an_empty_bucket_is_429_without_reading_the_body(world: World) -> None:
    bearer = b"Bearer " + (await world.key("acme")).encode()
    app = world.app(RateLimit(rate_per_s=0.001, burst=1))
    status, _, reads = await call(app, "/v1/emails/batch", bearer)
    assert status == 413  # the key is good: the body was read (and counted: too large)
    assert reads >= 1
    status, answer, reads = await call(app, "/v1/emails/batch", bearer)
    assert status == 429
    assert answer["error"]["type"] == "rate_limited"
    assert reads == 0


async def test_a_request_outside_the_api_gets_the_small_body_limit(world: World) -> None:
    async def reads_its_body(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()
        await PlainTextResponse("read")(scope, receive, send)

    gate = AuthGate(
        reads_its_body,
        keys=world.services.keys,
        limiter=RateLimiter(RateLimit(), world.clock),
        max_body_bytes=len(BIG_BODY) * 2,
    )
    assert len(BIG_BODY) > UNAUTHENTICATED_BODY_BYTES
    with pytest.raises(HTTPException) as refused:
        await call(gate, "/dashboard/sign-in", None)
    assert refused.value.status_code == 413
    status, _, reads = await call(gate, "/v1/emails", b"Bearer " + (await world.key("a")).encode())
    assert (status, reads) == (200, 1)
