"""The security headers of every dashboard answer: a strict CSP, no framing by other sites.

Owns the policy: scripts, styles, images and frames only from the dashboard itself (vendored
htmx, one stylesheet; no inline script), forms only to it, no plugins, no ``<base>``, and no
site may frame a dashboard page (``frame-ancestors 'none'`` with ``X-Frame-Options: DENY`` for
older browsers: clickjacking). An answer that sets its own CSP (the sandboxed HTML part, framed
by the message page) keeps it. Must not decide what a page shows.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# CSP Level 3; 'self' for frames: the message page frames its own sandboxed HTML part.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self._app(scope, receive, with_headers)
