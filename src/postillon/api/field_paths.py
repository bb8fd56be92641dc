"""Turning FastAPI's request-validation errors into field problems named as the caller wrote them.

Pydantic locates an error by a tuple such as ``("body", "to", 2, "<object>", "email")``; callers
wrote ``to[2].email``. This module owns that translation: the source (``body``, ``query``,
``header``, ``path``) is dropped, list indices become ``[i]``, and the tags of our tagged unions
(written ``<like-this>`` in :mod:`.email_schema`) vanish. It also words pydantic's messages for
the cases callers hit most (unknown field, missing field). Must not know any route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from postillon.api.problems import FieldProblem

# What pydantic appends to a dict key's location when the key itself is invalid.
_KEY_MARKER = "[key]"
# Locations start with where the input came from; a bare "body" error is about the whole body.
_SOURCES = frozenset({"body", "query", "header", "path", "cookie"})

# Clearer words than pydantic's for the errors callers make most.
_MESSAGES = {
    "extra_forbidden": "is not a known field",
    "missing": "is required",
    "json_invalid": "is not valid JSON",
}


def is_union_tag(part: str) -> bool:
    """True for the tag of one of our tagged unions (``<string>``), never a JSON name."""
    return len(part) > 2 and part.startswith("<") and part.endswith(">")


def field_path(loc: Sequence[str | int]) -> str:
    """The JSON path of a pydantic error location: ``("body", "to", 2)`` -> ``to[2]``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = str(parts.pop(0))
        if not parts:
            return source
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == _KEY_MARKER or is_union_tag(part):
            continue
        else:
            path += f".{part}" if path else part
    return path or "body"


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[FieldProblem]:
    """One problem per pydantic error (duplicates, e.g. from union branches, dropped)."""
    problems: list[FieldProblem] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        loc = tuple(error.get("loc", ()))
        kind = str(error.get("type", ""))
        message = _MESSAGES.get(kind) or _plain(str(error.get("msg", "is invalid")))
        # A JSON syntax error carries the character offset, not a field.
        where = "body" if kind == "json_invalid" else field_path(loc)
        key = (where, message)
        if key not in seen:
            seen.add(key)
            problems.append(FieldProblem(*key))
    return problems


def _plain(message: str) -> str:
    # Pydantic words custom errors "Value error, <ours>"; ours need no prefix.
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message
