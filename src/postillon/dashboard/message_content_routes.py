"""A message's HTML part, served for a sandboxed frame, and one attempt's session transcript.

SECURITY: the HTML part is the customer's (or anyone's, over SMTP submission) markup. The
detail page shows it in ``<iframe sandbox>`` without allow-scripts or allow-same-origin, and
this route serves it with a CSP that sandboxes it again (so opening the URL directly runs no
script either), allows no fetch at all (remote images, fonts, frames: ``default-src 'none'``)
but inline styles and ``data:`` images, and ``nosniff``. The transcript is shown as text.
Both are scoped to the signed-in account: another account's message is a 404.
Must not put the HTML part into a dashboard page itself: only into the sandboxed frame.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from postillon.dashboard.context import Context, SignedIn, not_found, render
from postillon.message.parts import read_parts
from postillon.services.errors import NotFoundError
from postillon.storage.records import AttemptView, MessageView

router = APIRouter()

HTML_PART_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:;"
        " frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",  # only the message page may frame it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}


@router.get("/messages/{message_id}/html", name="message_html")
async def html_part(
    request: Request, context: Context, session: SignedIn, message_id: str
) -> Response:
    """The message's HTML part, for the detail page's sandboxed frame."""
    try:
        message = await context.services.sending.get(session.account, message_id, with_body=True)
    except NotFoundError:
        return Response("Not found", status_code=404, media_type="text/plain")
    html = read_parts(message.body or b"").html
    if html is None:
        return Response("This message has no HTML part.", status_code=404, media_type="text/plain")
    return HTMLResponse(html, headers=HTML_PART_HEADERS)


def _attempt(message: MessageView, attempt_id: str) -> tuple[str, AttemptView] | None:
    """The recipient address and the attempt with this id, if it is one of the message's."""
    for recipient in message.recipients:
        for attempt in recipient.attempt_log:
            if str(attempt.id) == attempt_id:
                return recipient.address, attempt
    return None


@router.get(
    "/messages/{message_id}/attempts/{attempt_id}/transcript",
    response_class=HTMLResponse,
    name="transcript",
)
async def transcript(
    request: Request, context: Context, session: SignedIn, message_id: str, attempt_id: str
) -> HTMLResponse:
    """One attempt's SMTP session transcript: a page of its own, or (asked for by htmx) the
    fragment the detail page shows under the attempt."""
    try:
        message = await context.services.sending.get(session.account, message_id)
    except NotFoundError:
        message = None
    found = _attempt(message, attempt_id) if message is not None else None
    if message is None or found is None:
        return not_found(context, request, session)
    address, attempt = found
    inline = "HX-Request" in request.headers and "HX-Boosted" not in request.headers
    response = render(
        context,
        request,
        "_transcript.html" if inline else "transcript.html",
        session,
        message=message,
        address=address,
        attempt=attempt,
    )
    response.headers["Vary"] = "HX-Request"  # one URL, two answers: caches must keep both
    return response
