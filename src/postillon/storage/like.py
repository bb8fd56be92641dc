"""LIKE patterns for substring searches: the one escape character, and the user's text taken
literally (its ``%``, ``_`` and escape character match themselves).

Owns building the pattern and the ``LIKE``/``ILIKE`` clause that names its escape character
(SQLite has no default one; we say it on both dialects). It must not run queries.
"""

from __future__ import annotations

import sqlalchemy as sa

# The escape character of our LIKE patterns.
LIKE_ESCAPE = "\\"
# PostgreSQL text cannot hold NUL (a parameter with one fails the query); we never store one, so
# a search for it matches nothing, on both dialects.
NUL = "\x00"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its ``%``, ``_`` and escape character
    taken literally."""
    literal = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{literal}%"


def contains(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """``column`` holds ``text`` (``LIKE``: case as the dialect compares it)."""
    if NUL in text:
        return sa.false()
    return column.like(contains_pattern(text), escape=LIKE_ESCAPE)


def contains_any_case(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """``column`` holds ``text`` in any case (``ILIKE`` on PostgreSQL, ``lower() LIKE
    lower()`` on SQLite)."""
    if NUL in text:
        return sa.false()
    return column.ilike(contains_pattern(text), escape=LIKE_ESCAPE)
