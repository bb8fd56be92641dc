"""One source of truth for event type strings: ``postillon.events.EventType``.

Every string literal in the source that has the shape of an event type (``email.x``,
``domain.x``) must be a member, so a typo or a second list in storage or services cannot
write an event no endpoint can subscribe to; the outbox writer takes only members.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from pathlib import Path

import postillon
from postillon.events import RETIRED_EVENT_TYPES, EventType
from postillon.storage.outbox import event_row

SOURCE = Path(postillon.__file__).parent
EVENT_SHAPE = re.compile(r"(email|domain)\.[a-z_]+")
# Literals of that shape that are not event types: template and file names.
NOT_EVENTS = frozenset({"domain.html"})


def _literals() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and EVENT_SHAPE.fullmatch(text) and text not in NOT_EVENTS:
                found.append((str(path.relative_to(SOURCE)), text))
    return found


def test_every_event_type_literal_in_the_source_is_a_member() -> None:
    literals = _literals()
    known = {t.value for t in EventType} | RETIRED_EVENT_TYPES

    assert len(literals) > 3  # the scan sees the enum itself
    assert [(path, text) for path, text in literals if text not in known] == []
    # A retired name is named only where it is retired.
    assert {path for path, text in literals if text in RETIRED_EVENT_TYPES} == {"events.py"}
    # Storage writes no type of its own: its event types come from the enum.
    assert not [path for path, _ in literals if path.startswith("storage/")]


def test_the_outbox_writer_takes_only_members() -> None:
    hints = typing.get_type_hints(event_row)
    assert hints["type"] is EventType
    assert "type" in inspect.signature(event_row).parameters


def test_a_retired_type_is_no_longer_offered() -> None:
    assert RETIRED_EVENT_TYPES.isdisjoint(t.value for t in EventType)
