"""Event records, their JSON body, ids, and endpoint filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from postillon.events import EventType
from postillon.webhooks.errors import InvalidFilterError
from postillon.webhooks.events import WebhookEvent, new_event_id
from postillon.webhooks.filters import EventFilter
from postillon.webhooks.signing import is_valid_msg_id

T0 = datetime(2026, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)


def test_the_event_types_are_exactly_the_documented_ones() -> None:
    assert {t.value for t in EventType} == {
        "email.queued",
        "email.delivered",
        "email.deferred",
        "email.bounced",
        "email.expired",
        "email.suppressed",
        "email.cancelled",
        "email.delayed",
        "email.complained",
        "email.unsubscribed",
        "domain.verified",
        "domain.dns_failed",
    }


def test_body_is_minified_json_with_type_timestamp_and_data() -> None:
    event = WebhookEvent("msg_1", EventType.EMAIL_DELIVERED, T0, {"recipient": "bob@example.org"})
    assert event.body() == (
        b'{"type":"email.delivered","timestamp":"2026-03-01T12:00:05.123456Z",'
        b'"data":{"recipient":"bob@example.org"}}'
    )


def test_body_timestamp_is_utc_whatever_the_zone_given() -> None:
    local = T0.astimezone(timezone(timedelta(hours=-7)))
    event = WebhookEvent("msg_1", EventType.EMAIL_QUEUED, local)
    assert json.loads(event.body())["timestamp"] == "2026-03-01T12:00:05.123456Z"


def test_body_keeps_non_ascii_as_utf8() -> None:
    event = WebhookEvent("msg_1", EventType.EMAIL_BOUNCED, T0, {"text": "Postfach voll – ü"})
    assert "Postfach voll – ü".encode() in event.body()


def test_type_read_back_as_text_becomes_the_enum() -> None:
    event = WebhookEvent("msg_1", "email.bounced", T0)  # type: ignore[arg-type]
    assert event.type is EventType.EMAIL_BOUNCED
    with pytest.raises(ValueError, match=r"email\.bouncd"):
        WebhookEvent("msg_1", "email.bouncd", T0)  # type: ignore[arg-type]


def test_data_is_a_read_only_copy() -> None:
    source: dict[str, object] = {"a": 1}
    event = WebhookEvent("msg_1", EventType.EMAIL_QUEUED, T0, source)
    source["a"] = 2
    assert event.data["a"] == 1
    with pytest.raises(TypeError):
        event.data["a"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    ("event_id", "created_at", "data", "message"),
    [
        pytest.param("msg.1", T0, {}, "webhook-id", id="dot-in-id"),
        pytest.param("msg_1", datetime(2026, 1, 1), {}, "aware", id="naive-time"),
        pytest.param("msg_1", T0, {"when": T0}, "not JSON", id="datetime-in-data"),
        pytest.param("msg_1", T0, {"x": float("nan")}, "not JSON", id="nan-in-data"),
    ],
)
def test_invalid_events_are_refused(
    event_id: str, created_at: datetime, data: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WebhookEvent(event_id, EventType.EMAIL_QUEUED, created_at, data)


def test_event_ids_come_from_the_injected_randomness() -> None:
    first = new_event_id(bytes)
    assert first == "msg_" + "a" * 26
    assert is_valid_msg_id(first)
    assert new_event_id(lambda n: b"\xff" * n) != first


def test_filter_star_takes_everything() -> None:
    for value in ("*", ["*"]):
        event_filter = EventFilter.parse(value)
        assert all(event_filter.matches(t) for t in EventType)
        assert event_filter.as_json() == "*"


def test_filter_list_takes_only_its_types() -> None:
    event_filter = EventFilter.parse(["email.bounced", "email.delivered"])
    assert event_filter.matches(EventType.EMAIL_BOUNCED)
    assert not event_filter.matches(EventType.EMAIL_QUEUED)
    assert event_filter.as_json() == ["email.bounced", "email.delivered"]
    assert EventFilter.parse(event_filter.as_json()) == event_filter


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(["email.delivred"], "'email.delivred'", id="typo-named"),
        pytest.param([], "at least one", id="empty"),
        pytest.param(["*", "email.queued"], "cannot be combined", id="star-and-types"),
        pytest.param("email.*", "'email.\\*'", id="no-wildcards-but-star"),
    ],
)
def test_bad_filters_are_refused(value: str | list[str], message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        EventFilter.parse(value)


def test_a_stored_filter_naming_a_retired_type_keeps_its_other_types() -> None:
    # email.failed was offered once; an endpoint stored with it must not stop receiving events.
    assert "email.failed" not in {t.value for t in EventType}
    event_filter = EventFilter.parse(["email.bounced", "email.failed"])
    assert event_filter.matches(EventType.EMAIL_BOUNCED)
    assert event_filter.as_json() == ["email.bounced"]
    only_retired = EventFilter.parse(["email.failed"])
    assert not any(only_retired.matches(t) for t in EventType)
