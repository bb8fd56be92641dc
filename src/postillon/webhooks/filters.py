"""Endpoint event filters: which event types an endpoint receives.

Owns the filter an endpoint is registered with: ``"*"`` (every type, including types added
later) or a list of event type names, parsed strictly (an unknown name is an error naming it,
so a typo never silently subscribes to nothing); a retired name in a stored filter is skipped
(it matches no event; the endpoint keeps its other types). The spec ("Event types") recommends
filtering on the producing side. It must not know about endpoints' storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from postillon.events import RETIRED_EVENT_TYPES, EventType
from postillon.webhooks.errors import InvalidFilterError

ALL_EVENTS = "*"


@dataclass(frozen=True)
class EventFilter:
    """``types is None`` means every event; otherwise exactly these types."""

    types: frozenset[EventType] | None = None

    def matches(self, event_type: EventType) -> bool:
        """True if an endpoint with this filter should receive ``event_type``."""
        return self.types is None or event_type in self.types

    def as_json(self) -> str | list[str]:
        """``"*"`` or the sorted list of type names (for the API and the store)."""
        if self.types is None:
            return ALL_EVENTS
        return sorted(t.value for t in self.types)

    @classmethod
    def parse(cls, value: str | Iterable[str]) -> EventFilter:
        """``"*"`` or ``["*"]`` -> all; a non-empty list of names -> those types.

        Raises InvalidFilterError naming an unknown type, or for an empty or mixed list.
        """
        names = [value] if isinstance(value, str) else list(value)
        if ALL_EVENTS in names:
            if len(names) > 1:
                raise InvalidFilterError(f"{ALL_EVENTS!r} cannot be combined with event types")
            return cls(None)
        if not names:
            raise InvalidFilterError("an event filter lists at least one type, or is '*'")
        types: set[EventType] = set()
        for name in names:
            if name in RETIRED_EVENT_TYPES:
                continue
            try:
                types.add(EventType(name))
            except ValueError:
                raise InvalidFilterError(f"unknown event type {name!r}") from None
        return cls(frozenset(types))
