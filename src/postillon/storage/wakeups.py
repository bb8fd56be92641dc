"""Wake-ups within one node: "mail became due" from the store to the local engine.

The store fires :class:`DueSignal` after the commit of an enqueue, a retry-now or a cancel;
the engine subscribes and claims at once instead of at its next poll (the poll stays as a
safety net, and PostgreSQL's NOTIFY tells the other nodes). Listeners run synchronously and
must only set a flag (an ``asyncio.Event``); one that raises is not the caller's problem.
It must not know about the engine or hold queries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable


class DueSignal:
    """Callbacks run when mail may have become due on this node."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self.fired = 0

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` on every :meth:`fire`."""
        self._listeners.append(listener)

    def fire(self) -> None:
        """Tell every listener (after a commit that made mail due)."""
        self.fired += 1
        for listener in self._listeners:
            with contextlib.suppress(Exception):
                listener()
