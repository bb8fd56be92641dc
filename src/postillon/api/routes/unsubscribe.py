"""``/u/{token}``: one-click unsubscribe (RFC 8058) at ``[api] public_url``.

POST with the body ``List-Unsubscribe=One-Click`` (form-urlencoded, or multipart/form-data:
RFC 8058 §3.2) unsubscribes at once; the token is the only authentication (unguessable,
HMAC-tagged). GET never unsubscribes (mail scanners and link previews fetch links, RFC 8058
§3.2): it shows a page whose button makes that same POST. An unknown or altered token is 404
and changes nothing. Not in the OpenAPI document: it is for mailbox providers and recipients,
not for API clients. Must not touch the store (the service does).
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from postillon.api.context import Context
from postillon.services.unsubscribe import ONE_CLICK

router = APIRouter(prefix="/u", include_in_schema=False)

# The one-click body is 26 octets; a form with a boundary a few hundred.
MAX_BODY_OCTETS = 4096
_FIELD, _VALUE = ONE_CLICK.split("=")
_MULTIPART_FIELD = re.compile(
    rb'name="?' + _FIELD.encode() + rb'"?\r?\n(?:[^\r\n]*\r?\n){0,4}?\r?\n' + _VALUE.encode(),
    re.IGNORECASE,
)
# The page: nothing loads from anywhere, the form posts only here, no referrer leaks the token.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Robots-Tag": "noindex",
}
_NOT_FOUND = "This unsubscribe link is not valid.\n"


def _is_one_click(content_type: str, body: bytes) -> bool:
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == "multipart/form-data":
        return _MULTIPART_FIELD.search(body) is not None
    form = parse_qs(body.decode("utf-8", errors="replace"))
    return form.get(_FIELD) == [_VALUE]


@router.post("/{token}")
async def unsubscribe(token: str, request: Request, context: Context) -> Response:
    """Unsubscribe the address the token names (200), idempotently."""
    body = (await request.body())[:MAX_BODY_OCTETS]
    if not _is_one_click(request.headers.get("content-type", ""), body):
        return PlainTextResponse(f"send the body {ONE_CLICK} (RFC 8058)\n", status_code=400)
    done = await context.services.unsubscribe.unsubscribe(token)
    if done is None:
        return PlainTextResponse(_NOT_FOUND, status_code=404, headers=_PAGE_HEADERS)
    return PlainTextResponse("You are unsubscribed.\n", headers=_PAGE_HEADERS)


@router.get("/{token}")
async def confirm(token: str, context: Context) -> Response:
    """A page asking to confirm; it changes nothing by itself."""
    target = context.services.unsubscribe.target(token)
    if target is None:
        return PlainTextResponse(_NOT_FOUND, status_code=404, headers=_PAGE_HEADERS)
    address = html.escape(target.address)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Unsubscribe</title></head>"
        '<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">'
        f"<h1>Unsubscribe</h1><p>Stop mail from this sender to <strong>{address}</strong>?</p>"
        '<form method="post">'
        f'<input type="hidden" name="{_FIELD}" value="{_VALUE}">'
        '<button type="submit">Unsubscribe</button></form></body></html>'
    )
    return HTMLResponse(page, headers=_PAGE_HEADERS)
