"""A synchronous driver for the server core in unit tests: bytes in, replies and events out."""

from __future__ import annotations

from collections.abc import Callable

from postillon.smtp.server_events import (
    Close,
    Decision,
    MessageData,
    NeedData,
    ServerEvent,
    StartTls,
)
from postillon.smtp.server_reply import ServerReply
from postillon.smtp.server_session import ServerSession

Decide = Callable[[Decision], ServerReply | None]


def accept_all(event: Decision) -> ServerReply | None:
    """The door that accepts everything."""
    return None


def drive(
    session: ServerSession, data: bytes, decide: Decide = accept_all
) -> tuple[bytes, list[ServerEvent]]:
    """Feed ``data``, answer decisions with ``decide`` until the session needs more input,
    starts TLS or closes; return the replies written and the events seen."""
    session.receive_data(data)
    events: list[ServerEvent] = []
    while True:
        event = session.next_event()
        events.append(event)
        if isinstance(event, NeedData | StartTls | Close):
            return session.data_to_send(), events
        session.respond(decide(event))


def messages(events: list[ServerEvent]) -> list[MessageData]:
    """The messages among ``events``."""
    return [event for event in events if isinstance(event, MessageData)]


def codes(replies: bytes) -> list[int]:
    """The code of each final reply line in ``replies``."""
    return [int(line[:3]) for line in replies.split(b"\r\n") if line[3:4] == b" "]
