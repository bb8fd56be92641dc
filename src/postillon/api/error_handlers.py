"""Every error the API can meet, answered in the one error shape (:mod:`.problems`).

The mapping, one status per meaning:

    ApiError                         its own status (401, 413, 422, 429 ...)
    RequestValidationError           422 naming each field (unknown, missing, wrong type)
    Starlette HTTPException          its status (404 no route, 405 method, 413 body too large);
                                     400 (a body that is not UTF-8) becomes 422 on ``body``
    InvalidMessageError              422, or 413 when ``is_too_large``
    InvalidDomainError               422 on ``name``
    DomainNotVerifiedError           403 with the hint, on ``from``
    KeyGenerationLimitError          429 with Retry-After (DKIM keys made per account per hour)
    NotFoundError                    404 (also for another account's ids: never 403)
    IdempotencyConflictError         409 ``idempotency_conflict``
    DomainExistsError                409 ``conflict``
    TemporaryError                   503 with Retry-After (the store is unreachable, ...)
    anything else (ConfigError too)  500, generic text; the details go to the log only

Must not decide anything a service decides; it only translates.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from postillon.api.field_paths import field_problems
from postillon.api.problems import ApiError, ErrorType, FieldProblem, invalid
from postillon.domains.errors import InvalidDomainError
from postillon.errors import TemporaryError
from postillon.message.errors import InvalidMessageError
from postillon.services.errors import (
    DomainExistsError,
    DomainNotVerifiedError,
    IdempotencyConflictError,
    NotFoundError,
)
from postillon.services.key_generation import KeyGenerationLimitError

log = structlog.get_logger("postillon.api")

# What a client waits before trying again after a temporary failure (a store failover or a
# lock timeout takes seconds, not minutes).
UNAVAILABLE_RETRY_AFTER_S = 5
_HTTP_TYPES = {
    404: ErrorType.NOT_FOUND,
    405: ErrorType.METHOD_NOT_ALLOWED,
    413: ErrorType.TOO_LARGE,
}

Handler = Callable[[Request, Any], Awaitable[Response]]


def respond(error: ApiError) -> JSONResponse:
    """The HTTP answer for ``error``."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def api_error(error: Exception) -> ApiError:
    """The API error for a service or domain error (500 for anything unexpected)."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, InvalidMessageError):
        problems = [FieldProblem(p.field, p.message) for p in error.problems]
        return invalid(problems, status=413 if error.is_too_large else 422)
    if isinstance(error, InvalidDomainError):
        return invalid([FieldProblem("name", str(error))])
    if isinstance(error, DomainNotVerifiedError):
        return ApiError(
            403,
            ErrorType.DOMAIN_NOT_VERIFIED,
            str(error),
            fields=[FieldProblem("from", error.hint)],
        )
    if isinstance(error, NotFoundError):
        return ApiError(404, ErrorType.NOT_FOUND, str(error))
    if isinstance(error, IdempotencyConflictError):
        return ApiError(409, ErrorType.IDEMPOTENCY_CONFLICT, str(error))
    if isinstance(error, DomainExistsError):
        return ApiError(409, ErrorType.CONFLICT, str(error))
    if isinstance(error, KeyGenerationLimitError):
        retry_after = max(1, math.ceil(error.retry_after_s))
        return ApiError(
            429, ErrorType.RATE_LIMITED, str(error), headers={"Retry-After": str(retry_after)}
        )
    if isinstance(error, TemporaryError):
        return ApiError(
            503,
            ErrorType.UNAVAILABLE,
            "postillon cannot take this request right now; try again shortly",
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
        )
    return ApiError(500, ErrorType.INTERNAL, "an internal error occurred; it has been logged")


async def _on_error(request: Request, exc: Exception) -> Response:
    error = api_error(exc)
    if error.status >= 500:
        log.error("api.error", path=request.url.path, error=repr(exc), status=error.status)
    return respond(error)


async def _on_validation(request: Request, exc: RequestValidationError) -> Response:
    return respond(invalid(field_problems(exc.errors())))


async def _on_http(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 400:
        # FastAPI's only 400: a body it could not decode (not UTF-8). RFC 8259 §8.1: JSON
        # exchanged between systems is UTF-8, so the body is invalid JSON like any other.
        return respond(invalid([FieldProblem("body", "is not valid JSON (not UTF-8)")]))
    fallback = ErrorType.INTERNAL if exc.status_code >= 500 else ErrorType.VALIDATION
    type_ = _HTTP_TYPES.get(exc.status_code, fallback)
    if exc.status_code == 404:
        message = f"no such resource: {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed here"
    else:
        message = str(exc.detail)
    return respond(ApiError(exc.status_code, type_, message, headers=exc.headers))


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http)  # type: ignore[arg-type]
    for kind in (
        ApiError,
        InvalidMessageError,
        InvalidDomainError,
        DomainNotVerifiedError,
        NotFoundError,
        IdempotencyConflictError,
        DomainExistsError,
        TemporaryError,
        Exception,
    ):
        app.add_exception_handler(kind, _on_error)
