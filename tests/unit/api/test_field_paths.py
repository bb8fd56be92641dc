"""Pydantic error locations become the JSON paths callers wrote."""

from __future__ import annotations

from typing import Any

import pytest

from postillon.api.field_paths import field_path, field_problems


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        pytest.param(("body", "to", 2), "to[2]", id="index"),
        pytest.param(
            ("body", "to", "<list>", 2, "<object>", "email"), "to[2].email", id="union-tags"
        ),
        pytest.param(("body", "from", "<string>"), "from", id="tag-at-end"),
        pytest.param(("body", "metadata", "k", "[key]"), "metadata.k", id="dict-key"),
        pytest.param(
            ("body", 3, "attachments", 0, "content"), "[3].attachments[0].content", id="batch"
        ),
        pytest.param(("body",), "body", id="whole-body"),
        pytest.param(("query", "limit"), "limit", id="query"),
        pytest.param(("header", "Idempotency-Key"), "Idempotency-Key", id="header"),
        pytest.param(("headers", "X-Tag"), "headers.X-Tag", id="no-source"),
    ],
)
def test_field_path(loc: tuple[str | int, ...], path: str) -> None:
    assert field_path(loc) == path


def test_problems_reword_and_deduplicate() -> None:
    errors: list[dict[str, Any]] = [
        {
            "loc": ("body", "nmae"),
            "type": "extra_forbidden",
            "msg": "Extra inputs are not permitted",
        },
        {"loc": ("body", "from"), "type": "missing", "msg": "Field required"},
        {"loc": ("body", "from", "<string>"), "type": "missing", "msg": "Field required"},
        {"loc": ("body", 17), "type": "json_invalid", "msg": "JSON decode error"},
        {
            "loc": ("body", "tags", 0),
            "type": "value_error",
            "msg": "Value error, has control characters",
        },
    ]
    assert [(p.field, p.message) for p in field_problems(errors)] == [
        ("nmae", "is not a known field"),
        ("from", "is required"),
        ("body", "is not valid JSON"),
        ("tags[0]", "has control characters"),
    ]
