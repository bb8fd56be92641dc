"""The error answers each route documents in the OpenAPI document, all in the one error shape.

Owns the ``responses=`` mapping routes pass to FastAPI, so that the document lists every status
a route can answer (schemathesis checks answers against it). Must not produce answers.
"""

from __future__ import annotations

from typing import Any

from postillon.api.problems import ErrorBody

_DESCRIPTIONS = {
    401: "No API key, or a malformed, unknown or revoked one.",
    403: "The sender domain is not verified for this account; the message says what to do.",
    404: "No such resource for this account.",
    409: "Conflict: an Idempotency-Key reused with another body, or a duplicate.",
    413: "The message (or the request body) is larger than the configured limit.",
    422: "The request is invalid; each problem names its field.",
    429: "Rate limited; the Retry-After header says how many seconds to wait.",
    503: "Temporarily unavailable; retry after the Retry-After header's seconds.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` for ``statuses``, each with the error shape as its body."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }
