"""Refusing request bodies larger than a message can be, before they are read into memory.

An ASGI middleware: a declared ``Content-Length`` over the limit is answered 413 at once; an
undeclared (chunked) body is counted as it arrives and cut with 413 when it passes the limit.
The limit follows ``[api] max_message_bytes``: base64 makes attachments 4/3 as large, and the
JSON around them needs a little more. Must not parse bodies.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postillon.api.problems import ApiError, ErrorType

# Room for the JSON around the content: addresses, subject, headers, field names, escapes.
JSON_OVERHEAD_BYTES = 1024 * 1024
TOO_LARGE = "the request body is larger than any message may be ({limit} octets)"


def max_body_bytes(max_message_bytes: int) -> int:
    """The largest request body that can hold a message of ``max_message_bytes``: base64
    (RFC 4648 §4) turns 3 octets into 4 characters."""
    return -(-max_message_bytes // 3) * 4 + JSON_OVERHEAD_BYTES


def too_large_error(limit: int) -> ApiError:
    """The 413 a too-large body gets."""
    return ApiError(413, ErrorType.TOO_LARGE, TOO_LARGE.format(limit=limit))


class BodyLimit:
    """Wraps an ASGI app so that no request body over ``limit`` octets reaches it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if self._declared_length(scope) > self._limit:
            error = too_large_error(self._limit)
            await JSONResponse(error.body(), status_code=413)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._limit:
                    # FastAPI re-raises an HTTPException met while reading the body; the
                    # API's handler turns it into the error shape.
                    raise HTTPException(413, TOO_LARGE.format(limit=self._limit))
            return message

        await self._app(scope, counting_receive, send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0
