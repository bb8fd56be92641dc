"""What the webhook pages say: an endpoint's state and events in words, the form's event
filter, the delivery log's rows and pages, a test delivery's result, notices and errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.dashboard.webhook_views import (
    MAX_LOG_ID,
    Problem,
    endpoint_row,
    endpoint_state,
    event_choices,
    event_types,
    events_text,
    excerpt,
    filter_from_form,
    log_cursor,
    log_page,
    log_rows,
    notice_for,
    problem_of,
    send_outcome,
)
from postillon.errors import PostillonError
from postillon.events import EventType
from postillon.storage.webhook_records import AttemptLogEntry
from postillon.webhooks.endpoint_errors import EndpointNotFoundError, UnresolvableHostError
from postillon.webhooks.endpoints import EndpointView
from postillon.webhooks.errors import InvalidFilterError, UnsafeTargetError
from postillon.webhooks.filters import EventFilter
from postillon.webhooks.result import DeliveryResult, FailureKind

AT = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SOME = EventFilter(frozenset({EventType.EMAIL_QUEUED, EventType.EMAIL_BOUNCED}))


def _view(
    *,
    enabled: bool = True,
    reason: str | None = None,
    since: datetime | None = None,
    failures: int = 0,
    event_filter: EventFilter = SOME,
) -> EndpointView:
    return EndpointView(
        id="ep_1",
        account_id="acc_1",
        url="https://example.com/hook",
        event_filter=event_filter,
        enabled=enabled,
        disabled_reason=reason,
        failing_since=since,
        consecutive_failures=failures,
        previous_secret_until=None,
        created_at=AT,
        updated_at=AT,
    )


def _entry(
    entry_id: int, event_id: str, *, status: int | None = 204, verdict: str = "delivered"
) -> AttemptLogEntry:
    return AttemptLogEntry(
        id=entry_id,
        endpoint_id="ep_1",
        event_id=event_id,
        event_type="email.queued",
        attempt=1,
        attempted_at=AT,
        status=status,
        verdict=verdict,
        latency_ms=12,
        response_snippet="",
        error=None,
    )


@pytest.mark.parametrize(
    ("view", "kind", "label", "detail"),
    [
        pytest.param(_view(), "active", "enabled", "", id="healthy"),
        pytest.param(
            _view(since=AT, failures=3),
            "failing",
            "failing",
            "failing since 2026-11-29 04:00:00 UTC, 3 consecutive failures",
            id="failing",
        ),
        pytest.param(
            _view(failures=1), "failing", "failing", "1 consecutive failure", id="one-failure"
        ),
        pytest.param(
            _view(enabled=False, reason="the receiver answered 410 Gone", since=AT, failures=2),
            "disabled",
            "disabled",
            "the receiver answered 410 Gone",
            id="disabled-with-reason",
        ),
        pytest.param(
            _view(enabled=False), "disabled", "disabled", "no reason recorded", id="no-reason"
        ),
    ],
)
def test_the_state_of_an_endpoint_in_words(
    view: EndpointView, kind: str, label: str, detail: str
) -> None:
    state = endpoint_state(view)
    assert (state.kind, state.label, state.detail) == (kind, label, detail)


def test_a_list_row_keeps_the_failure_record_beside_a_disabled_state() -> None:
    row = endpoint_row(_view(enabled=False, reason="by request", since=AT, failures=2))
    assert row.state.detail == "by request"
    assert row.failures == "failing since 2026-11-29 04:00:00 UTC, 2 consecutive failures"
    assert row.events == "email.bounced, email.queued"


def test_events_read_all_or_the_sorted_types() -> None:
    assert events_text(EventFilter(None)) == "All events"
    assert events_text(SOME) == "email.bounced, email.queued"


def test_the_checkboxes_follow_the_filter_or_what_was_typed() -> None:
    checked = {c.name for c in event_choices(SOME) if c.checked}
    assert checked == {"email.queued", "email.bounced"}
    assert not any(c.checked for c in event_choices(EventFilter(None)))
    typed = {c.name for c in event_choices(SOME, ["email.expired"]) if c.checked}
    assert typed == {"email.expired"}
    assert [c.name for c in event_choices(None)] == event_types()
    assert event_types() == [kind.value for kind in EventType]


@pytest.mark.parametrize(
    ("scope", "types", "expected"),
    [
        pytest.param("all", [], "*", id="all"),
        pytest.param("all", ["email.queued"], "*", id="all-wins-over-boxes"),
        pytest.param("some", ["email.queued"], ["email.queued"], id="some"),
        pytest.param(
            "some", ["email.queued", "email.queued", "x.y"], ["email.queued", "x.y"], id="deduped"
        ),
    ],
)
def test_the_filter_a_form_asks_for(
    scope: str, types: list[str], expected: str | list[str]
) -> None:
    assert filter_from_form(scope, types) == expected


@pytest.mark.parametrize("scope", ["some", "", "bogus"])
def test_only_these_with_nothing_checked_is_refused(scope: str) -> None:
    with pytest.raises(InvalidFilterError, match="at least one event type"):
        filter_from_form(scope, [])


def test_log_rows_say_status_outcome_and_which_rows_can_be_replayed() -> None:
    rows = log_rows(
        [
            _entry(5, "msg_b", status=None, verdict="retry"),
            _entry(4, "msg_t", verdict="test"),
            _entry(3, "msg_b", status=503, verdict="retry"),
            _entry(2, "msg_a", verdict="delivered"),
            _entry(1, "msg_x", verdict="disable_endpoint", status=410),
        ]
    )
    assert [r.status for r in rows] == [
        "no response",
        "HTTP 204",
        "HTTP 503",
        "HTTP 204",
        "HTTP 410",
    ]
    assert [r.is_success for r in rows] == [False, True, False, True, False]
    assert [r.outcome for r in rows] == [
        "will be retried",
        "test event",
        "will be retried",
        "delivered",
        "given up, endpoint disabled",
    ]
    # The newest row of each stored event; test events were never stored.
    assert [r.can_replay for r in rows] == [True, False, False, True, True]


def test_a_log_page_points_at_an_older_page_only_when_there_is_one() -> None:
    entries = [_entry(i, f"msg_{i}") for i in (9, 8, 7)]
    full = log_page(entries, 2)
    assert ([r.id for r in full.rows], full.next_before) == ([9, 8], 8)
    last = log_page(entries, 3)
    assert ([r.id for r in last.rows], last.next_before) == ([9, 8, 7], None)
    assert log_page([], 3).next_before is None


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "abc", "1e3", str(MAX_LOG_ID + 1), "9" * 40])
def test_a_malformed_log_cursor_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a log cursor"):
        log_cursor(text)


def test_a_log_cursor() -> None:
    assert log_cursor("") is None
    assert log_cursor("42") == 42
    assert log_cursor(str(MAX_LOG_ID)) == MAX_LOG_ID


def test_an_excerpt_is_one_line_and_bounded() -> None:
    assert excerpt("  ok\r\n thanks ") == "ok thanks"
    cut = excerpt("x" * 500, 10)
    assert (len(cut), cut[-1]) == (10, "…")


def test_a_test_delivery_in_words() -> None:
    delivered = send_outcome(DeliveryResult(AT, 204, 12, snippet="fine"))
    assert (delivered.is_success, delivered.headline, delivered.status) == (
        True,
        "Delivered: HTTP 204",
        "HTTP 204",
    )
    refused = send_outcome(
        DeliveryResult(AT, None, 3, error="connection refused", failure=FailureKind.CONNECT)
    )
    assert (refused.is_success, refused.headline, refused.status, refused.error) == (
        False,
        "Failed: connect: connection refused",
        "no response",
        "connection refused",
    )
    server_error = send_outcome(
        DeliveryResult(AT, 500, 8, snippet="db down", failure=FailureKind.HTTP_STATUS)
    )
    assert (server_error.headline, server_error.excerpt) == ("Failed: HTTP 500", "db down")


def test_notices_after_actions() -> None:
    assert notice_for("disabled") is not None
    assert notice_for("enabled") is not None
    assert notice_for("replayed", "msg_2KWP") == (
        "Event msg_2KWP is queued to be sent again (same webhook-id, retried as usual)."
    )
    assert notice_for("replayed", "<script>") is None
    assert notice_for("replayed") is None
    assert notice_for("anything-else") is None
    assert notice_for("") is None


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        pytest.param(
            UnsafeTargetError("'http://10.0.0.1/': 10.0.0.1 refused: private (RFC 1918)"),
            Problem(
                "url",
                "That URL cannot be used: 'http://10.0.0.1/': 10.0.0.1 refused: "
                "private (RFC 1918).",
            ),
            id="unsafe",
        ),
        pytest.param(
            UnresolvableHostError("cannot resolve the host of 'https://nxdomain.test/'"),
            Problem(
                "url",
                "That URL cannot be used: cannot resolve the host of 'https://nxdomain.test/'. "
                "Check the host name, or try again later.",
            ),
            id="unresolvable",
        ),
        pytest.param(
            InvalidFilterError("unknown event type 'x.y'"),
            Problem("events", "Events: unknown event type 'x.y'."),
            id="filter",
        ),
        pytest.param(
            EndpointNotFoundError("no webhook endpoint 'ep_1'"),
            Problem("", "That could not be done: no webhook endpoint 'ep_1'."),
            id="other",
        ),
    ],
)
def test_service_errors_read_as_sentences_naming_the_field(
    error: PostillonError, problem: Problem
) -> None:
    assert problem_of(error) == problem
