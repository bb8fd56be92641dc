"""The one error shape of the API, and the exception every route raises to produce it.

Every error answer, from our routes, from FastAPI's request validation and from Starlette's
404/405, has this body::

    {"error": {"type": "validation_error", "message": "to[2]: ...",
               "fields": [{"field": "to[2]", "message": "..."}]}}

``type`` is a stable machine-readable word (:class:`ErrorType`), ``message`` is for people,
``fields`` names each offending input field with the JSON path the caller wrote (empty when
the error is not about one field). Must not map domain errors (see :mod:`.error_handlers`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

# A 422 lists every problem, but its one-line message names at most this many.
MESSAGE_FIELDS_SHOWN = 3


class ErrorType(enum.StrEnum):
    """The ``type`` of an error answer, one per meaning (several may share a status)."""

    VALIDATION = "validation_error"  # 422
    TOO_LARGE = "payload_too_large"  # 413
    UNAUTHORIZED = "unauthorized"  # 401
    DOMAIN_NOT_VERIFIED = "domain_not_verified"  # 403
    NOT_FOUND = "not_found"  # 404
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"  # 409
    CONFLICT = "conflict"  # 409
    RATE_LIMITED = "rate_limited"  # 429
    UNAVAILABLE = "unavailable"  # 503
    INTERNAL = "internal_error"  # 500


class FieldProblemBody(BaseModel):
    """One input field and what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    field: str
    message: str


class ErrorDetail(BaseModel):
    """The inside of an error answer."""

    model_config = ConfigDict(frozen=True)

    type: ErrorType
    message: str
    fields: list[FieldProblemBody]


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    model_config = ConfigDict(frozen=True)

    error: ErrorDetail


@dataclass(frozen=True)
class FieldProblem:
    """A problem with one named input field (``to[2]``, ``headers.X-Tag``, ``limit``)."""

    field: str
    message: str


class ApiError(Exception):
    """An HTTP error answer: status, type, message, the fields at fault and extra headers."""

    def __init__(
        self,
        status: int,
        type_: ErrorType,
        message: str,
        *,
        fields: Iterable[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.fields = tuple(fields)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        """The JSON body of the answer."""
        detail = ErrorDetail(
            type=self.type,
            message=_encodable(self.message),
            fields=[
                FieldProblemBody(field=_encodable(f.field), message=_encodable(f.message))
                for f in self.fields
            ],
        )
        return ErrorBody(error=detail).model_dump(mode="json")


def _encodable(text: str) -> str:
    # Field names and messages may quote the caller's input, lone surrogates included (JSON
    # "\ud800" parses to one); UTF-8 cannot carry those, so they are shown escaped.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def invalid(problems: Iterable[FieldProblem], *, status: int = 422) -> ApiError:
    """A 422 (or 413) naming every problem; the message repeats the first few."""
    listed = tuple(problems)
    shown = "; ".join(f"{p.field}: {p.message}" for p in listed[:MESSAGE_FIELDS_SHOWN])
    more = len(listed) - MESSAGE_FIELDS_SHOWN
    if more > 0:
        shown += f" (and {more} more)"
    type_ = ErrorType.TOO_LARGE if status == 413 else ErrorType.VALIDATION
    return ApiError(status, type_, shown or "the request is invalid", fields=listed)
