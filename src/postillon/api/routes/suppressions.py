"""``/v1/suppressions``: the account's suppressed addresses, each with its reason.

A reason is one of ``bounce`` (a hard bounce, during delivery or reported later by mail),
``complaint`` (a feedback-loop report), ``unsubscribe`` (one-click, RFC 8058) or ``manual``;
``detail`` says more (the bounce reply, the feedback type). Newest first, paged with an opaque
cursor, searched by address. Must not touch the store (the suppression service does).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from postillon.api.context import Context, CurrentAccount
from postillon.api.openapi_errors import error_responses
from postillon.api.problems import FieldProblem, invalid
from postillon.storage.errors import StorageError

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# No address or cursor is longer than this.
MAX_QUERY_CHARS = 2048

Reason = Literal["bounce", "complaint", "unsubscribe", "manual"]


class SuppressionOut(BaseModel):
    """One suppressed address."""

    model_config = ConfigDict(frozen=True)

    address: str = Field(description="Lower case; compared in any case.")
    reason: Reason
    detail: str | None = Field(description="The bounce reply, the feedback type ...")
    source_message_id: str | None = Field(description="The message that led to it, if any.")
    created_at: datetime


class SuppressionPageOut(BaseModel):
    """One page, newest first; ``next_cursor`` is null on the last page."""

    model_config = ConfigDict(frozen=True)

    data: list[SuppressionOut]
    next_cursor: str | None


@router.get(
    "",
    summary="The account's suppressed addresses, with their reasons",
    responses=error_responses(401, 422, 429, 503),
)
async def list_suppressions(
    account: CurrentAccount,
    context: Context,
    q: Annotated[
        str, Query(max_length=MAX_QUERY_CHARS, description="Part of the address, any case.")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
) -> SuppressionPageOut:
    """Newest first."""
    try:
        page = await context.services.suppressions.page(
            account, search=q, limit=limit, cursor=cursor
        )
    except StorageError as error:
        raise invalid([FieldProblem("cursor", str(error))]) from error
    return SuppressionPageOut(
        data=[
            SuppressionOut(
                address=item.suppression.address,
                reason=item.suppression.reason,  # type: ignore[arg-type]
                detail=item.suppression.detail,
                source_message_id=item.suppression.source_message_id,
                created_at=item.suppression.created_at,
            )
            for item in page.items
        ],
        next_cursor=page.next_cursor,
    )
