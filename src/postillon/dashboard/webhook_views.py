"""What the webhook pages say: an endpoint's subscription and state in words, the event-type
choices of the forms, the delivery log's rows and pages, a test delivery's result, the notice
after an action and the sentence for an error the webhook service raised.

Pure functions (no I/O). Must not decide what an action does (the webhook service does), only
how its input is read from a form and how its answer reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from postillon.dashboard.views import when
from postillon.errors import PostillonError
from postillon.events import EventType
from postillon.storage.webhook_records import AttemptLogEntry
from postillon.webhooks.endpoint_errors import UnresolvableHostError
from postillon.webhooks.endpoints import EndpointView
from postillon.webhooks.errors import InvalidFilterError, UnsafeTargetError
from postillon.webhooks.filters import ALL_EVENTS, EventFilter
from postillon.webhooks.result import DeliveryResult

# Endpoint ids we make are "ep_" + base32; anything outside this alphabet or length cannot be
# one, and is answered like an unknown id without a query.
ENDPOINT_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
# The webhook-id alphabet and length (webhooks/signing.py): anything else was never an event.
EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Log ids are 64-bit integers in both databases; a larger cursor would overflow the driver.
MAX_LOG_ID = 2**63 - 1
# The start of a receiver's answer shown in a log row; the page stays readable on a phone.
EXCERPT_CHARS = 160
# A deleted endpoint's URL in the list page's notice (it travels in the redirect's query).
NOTICE_URL_CHARS = 200
SCOPE_ALL = "all"
SCOPE_SOME = "some"
# What followed an attempt (the log's verdict), in words.
VERDICT_TEXT = {
    "delivered": "delivered",
    "retry": "will be retried",
    "failed": "given up",
    "disable_endpoint": "given up, endpoint disabled",
    "test": "test event",
}
NOTICES = {
    "enabled": "The endpoint is enabled: events are sent to it again.",
    "disabled": "The endpoint is disabled: nothing is sent to it until you enable it.",
    "updated": "The settings were saved.",
}


def event_types() -> list[str]:
    """Every event type a customer can subscribe to, in the enum's order."""
    return [kind.value for kind in EventType]


@dataclass(frozen=True)
class EventChoice:
    """One checkbox of the event-type fieldset."""

    name: str
    checked: bool


def event_choices(event_filter: EventFilter | None, typed: Sequence[str] = ()) -> list[EventChoice]:
    """The checkboxes: checked as ``typed`` (a form sent back) or else as ``event_filter``
    subscribes (nothing is checked for "all events")."""
    if typed:
        chosen = set(typed)
    elif event_filter is not None and event_filter.types is not None:
        chosen = {kind.value for kind in event_filter.types}
    else:
        chosen = set()
    return [EventChoice(name, name in chosen) for name in event_types()]


def events_text(event_filter: EventFilter) -> str:
    """``All events`` or the subscribed types, sorted, comma-separated."""
    if event_filter.types is None:
        return "All events"
    return ", ".join(sorted(kind.value for kind in event_filter.types))


def filter_from_form(scope: str, types: Sequence[str]) -> str | list[str]:
    """The event filter the form asks for: ``"*"`` for the "all events" choice, else the
    checked types (the service rejects unknown ones). Raises InvalidFilterError when "only
    these" has nothing checked."""
    if scope == SCOPE_ALL:
        return ALL_EVENTS
    if not types:
        raise InvalidFilterError("choose at least one event type, or all events")
    return list(dict.fromkeys(types))


@dataclass(frozen=True)
class EndpointState:
    """What an endpoint's state column says: ``kind`` names the badge (active, disabled,
    failing), ``label`` its text, ``detail`` the reason or the failure record."""

    kind: str
    label: str
    detail: str


def failure_text(view: EndpointView) -> str:
    """``failing since <time>, 3 consecutive failures`` or empty when it is healthy."""
    count = view.consecutive_failures
    if view.failing_since is None and count == 0:
        return ""
    failures = f"{count} consecutive failure{'' if count == 1 else 's'}"
    if view.failing_since is None:
        return failures
    return f"failing since {when(view.failing_since)}, {failures}"


def endpoint_state(view: EndpointView) -> EndpointState:
    """The endpoint's state in words: disabled (with the reason), failing, or enabled."""
    failing = failure_text(view)
    if not view.enabled:
        reason = view.disabled_reason or "no reason recorded"
        return EndpointState("disabled", "disabled", reason)
    if failing:
        return EndpointState("failing", "failing", failing)
    return EndpointState("active", "enabled", "")


@dataclass(frozen=True)
class EndpointRow:
    """One endpoint in the list: its state, its events and its failure record in words."""

    endpoint: EndpointView
    state: EndpointState
    events: str
    failures: str


def endpoint_row(view: EndpointView) -> EndpointRow:
    """The list row of ``view``."""
    return EndpointRow(
        view, endpoint_state(view), events_text(view.event_filter), failure_text(view)
    )


@dataclass(frozen=True)
class LogRow:
    """One attempt of the delivery log as a row. ``can_replay`` is set on the newest row of
    each event on the page (test events were never stored, so they cannot be replayed)."""

    id: int
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    status: str
    is_success: bool
    outcome: str
    latency_ms: int
    error: str | None
    excerpt: str
    is_test: bool
    can_replay: bool


@dataclass(frozen=True)
class LogPage:
    """One page of the log, newest first; ``next_before`` is the cursor of the older page."""

    rows: list[LogRow]
    next_before: int | None


def status_text(status: int | None) -> str:
    """``HTTP 204`` or ``no response``."""
    return "no response" if status is None else f"HTTP {status}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def log_rows(entries: Sequence[AttemptLogEntry]) -> list[LogRow]:
    """The rows for ``entries`` (newest first, as the service answers)."""
    seen: set[str] = set()
    rows = []
    for entry in entries:
        is_test = entry.verdict == "test"
        first = entry.event_id not in seen
        seen.add(entry.event_id)
        rows.append(
            LogRow(
                id=entry.id,
                event_id=entry.event_id,
                event_type=entry.event_type,
                attempt=entry.attempt,
                attempted_at=entry.attempted_at,
                status=status_text(entry.status),
                is_success=entry.status is not None and 200 <= entry.status < 300,
                outcome=VERDICT_TEXT.get(entry.verdict, entry.verdict),
                latency_ms=entry.latency_ms,
                error=entry.error,
                excerpt=excerpt(entry.response_snippet),
                is_test=is_test,
                can_replay=first and not is_test,
            )
        )
    return rows


def log_page(entries: Sequence[AttemptLogEntry], page_size: int) -> LogPage:
    """A page from up to ``page_size + 1`` entries: the extra one only says an older page
    exists (so a last page never links to an empty one)."""
    shown = list(entries[:page_size])
    has_more = len(entries) > page_size and bool(shown)
    return LogPage(log_rows(shown), shown[-1].id if has_more else None)


def log_cursor(text: str) -> int | None:
    """The ``before`` cursor of a log link: None when empty. Raises ValueError for anything
    that is not a log id."""
    if not text:
        return None
    if not text.isdigit() or len(text) > len(str(MAX_LOG_ID)):
        raise ValueError(f"{text[:40]!r} is not a log cursor")
    value = int(text)
    if not 1 <= value <= MAX_LOG_ID:
        raise ValueError(f"{text[:40]!r} is not a log cursor")
    return value


@dataclass(frozen=True)
class SendOutcome:
    """How a test delivery went: ``headline`` in one line, then the parts."""

    is_success: bool
    headline: str
    status: str
    latency_ms: int
    error: str | None
    excerpt: str


def send_outcome(result: DeliveryResult) -> SendOutcome:
    """A test delivery's result in words."""
    verb = "Delivered" if result.is_success else "Failed"
    return SendOutcome(
        is_success=result.is_success,
        headline=f"{verb}: {result.summary()}",
        status=status_text(result.status),
        latency_ms=result.latency_ms,
        error=result.error,
        excerpt=excerpt(result.snippet),
    )


def notice_for(done: str, event: str = "") -> str | None:
    """The sentence for a redirect's ``done`` parameter; None for anything else (a
    hand-edited link shows no notice)."""
    if done == "replayed":
        if EVENT_ID.fullmatch(event) is None:
            return None
        return f"Event {event} is queued to be sent again (same webhook-id, retried as usual)."
    return NOTICES.get(done)


def deleted_notice(url: str) -> str | None:
    """The list page's sentence after a deletion, naming the endpoint's URL."""
    if not url:
        return None
    return f"The endpoint {excerpt(url, NOTICE_URL_CHARS)} was deleted: nothing more is sent to it."


@dataclass(frozen=True)
class Problem:
    """A refused form: ``field`` (url or events) is the input to mark, ``text`` what to say."""

    field: str
    text: str


def problem_of(error: PostillonError) -> Problem:
    """The sentence for an error the webhook service raised on a form's input."""
    if isinstance(error, UnsafeTargetError):
        return Problem("url", f"That URL cannot be used: {error}.")
    if isinstance(error, UnresolvableHostError):
        return Problem(
            "url", f"That URL cannot be used: {error}. Check the host name, or try again later."
        )
    if isinstance(error, InvalidFilterError):
        return Problem("events", f"Events: {error}.")
    return Problem("", f"That could not be done: {error}.")
