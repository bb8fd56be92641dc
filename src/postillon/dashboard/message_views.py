"""What the message pages say: the list's search form read from the query string, and the
notice after an action (retry now, cancel), carried in the redirect's ``done`` parameter.

Pure functions (no I/O). Must not decide what an action does, only how its result reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from postillon.queue.status import RecipientStatus
from postillon.queue.stream import Stream
from postillon.storage.records import CancelResult, MessageFilter

STATUSES = [status.value for status in RecipientStatus]
STREAMS = [stream.value for stream in Stream]
# The search form's fields, in the order of the form and of the query string.
SEARCH_FIELDS = (
    "recipient",
    "sender",
    "subject",
    "message_id",
    "status",
    "stream",
    "tag",
    "after",
    "before",
)
# A count in a ``done`` parameter: ASCII digits (``str.isdigit`` accepts "²"), a sane size.
_COUNT = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class Search:
    """The search form as submitted (``query``, every field, empty when unset) and the
    filter it means."""

    query: Mapping[str, str]
    filters: MessageFilter

    def link_params(self) -> dict[str, str]:
        """The fields that are set, for links that keep the search (next page)."""
        return {name: value for name, value in self.query.items() if value}


def _moment(text: str) -> datetime | None:
    """A ``datetime-local`` input (taken as UTC), or None when empty or malformed."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None
    except ValueError:
        return None


def search_from(query: Mapping[str, str]) -> Search:
    """The search the form fields in ``query`` ask for; unknown statuses or streams and
    malformed times are ignored (the form shows them back as typed)."""
    fields = {name: query.get(name, "") for name in SEARCH_FIELDS}

    def text(name: str) -> str | None:
        return fields[name].strip() or None

    status = fields["status"]
    stream = fields["stream"]
    return Search(
        query=fields,
        filters=MessageFilter(
            status=RecipientStatus(status) if status in STATUSES else None,
            recipient=text("recipient"),
            sender=text("sender"),
            subject=text("subject"),
            header_message_id=text("message_id"),
            tag=text("tag"),
            stream=Stream(stream) if stream in STREAMS else None,
            created_after=_moment(fields["after"]),
            created_before=_moment(fields["before"]),
        ),
    )


def _recipients(count: int) -> str:
    return f"{count} recipient" if count == 1 else f"{count} recipients"


def cancelled_done(result: CancelResult) -> str:
    """The ``done`` parameter the cancel action redirects with."""
    return f"cancelled-{result.cancelled}-{result.in_flight}-{result.finished}"


def notice_for(done: str) -> str | None:
    """The sentence for a ``done`` parameter (``retried-N`` or ``cancelled-C-F-D``); None for
    anything else (a hand-edited link shows no notice)."""
    kind, _, rest = done.partition("-")
    numbers = rest.split("-")
    if not all(_COUNT.fullmatch(n) for n in numbers):
        return None
    counts = [int(n) for n in numbers]
    if kind == "retried" and len(counts) == 1:
        return f"{_recipients(counts[0])} made due now."
    if kind != "cancelled" or len(counts) != 3:
        return None
    cancelled, in_flight, _ = counts
    if cancelled == 0 and in_flight == 0:
        return "Nothing to cancel: every recipient had finished already."
    said = f"{_recipients(cancelled)} cancelled" if cancelled else "No recipient cancelled"
    if in_flight:
        return f"{said}, {in_flight} in flight could not be (being delivered right now)."
    return f"{said}: the message and its history are kept."
