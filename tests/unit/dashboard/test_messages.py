"""The message pages' pure parts: the search form read into a filter, and the notices after
retry now and cancel (a hand-edited ``done`` shows nothing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.dashboard.message_views import (
    SEARCH_FIELDS,
    cancelled_done,
    notice_for,
    search_from,
)
from postillon.queue.status import RecipientStatus
from postillon.queue.stream import Stream
from postillon.storage.records import CancelResult, MessageFilter


def test_every_field_of_the_form_becomes_its_filter() -> None:
    search = search_from(
        {
            "recipient": " bob@example.com ",
            "sender": "shop.example",
            "subject": "Invoice",
            "message_id": "<a@b>",
            "status": "cancelled",
            "stream": "broadcast",
            "tag": "orders",
            "after": "2026-11-29T04:00",
            "before": "2026-11-30T00:00",
            "cursor": "ignored here",
        }
    )
    assert search.filters == MessageFilter(
        status=RecipientStatus.CANCELLED,
        recipient="bob@example.com",
        sender="shop.example",
        subject="Invoice",
        header_message_id="<a@b>",
        tag="orders",
        stream=Stream.BROADCAST,
        created_after=datetime(2026, 11, 29, 4, 0, tzinfo=UTC),
        created_before=datetime(2026, 11, 30, tzinfo=UTC),
    )
    assert list(search.query) == list(SEARCH_FIELDS)
    assert "cursor" not in search.link_params()


def test_empty_unknown_and_malformed_fields_mean_any() -> None:
    search = search_from(
        {"subject": "   ", "status": "lost", "stream": "bulk", "after": "yesterday"}
    )
    assert search.filters == MessageFilter()
    assert search.query["after"] == "yesterday"  # shown back as typed
    assert search.link_params() == {
        "subject": "   ",
        "status": "lost",
        "stream": "bulk",
        "after": "yesterday",
    }


@pytest.mark.parametrize(
    ("result", "notice"),
    [
        pytest.param(
            CancelResult(2, 1, 0),
            "2 recipients cancelled, 1 in flight could not be (being delivered right now).",
            id="some-in-flight",
        ),
        pytest.param(
            CancelResult(1, 0, 3),
            "1 recipient cancelled: the message and its history are kept.",
            id="one",
        ),
        pytest.param(
            CancelResult(0, 2, 0),
            "No recipient cancelled, 2 in flight could not be (being delivered right now).",
            id="all-in-flight",
        ),
        pytest.param(
            CancelResult(0, 0, 2),
            "Nothing to cancel: every recipient had finished already.",
            id="nothing-waiting",
        ),
    ],
)
def test_the_cancel_notice_says_what_happened(result: CancelResult, notice: str) -> None:
    assert notice_for(cancelled_done(result)) == notice


@pytest.mark.parametrize(
    ("done", "notice"),
    [
        pytest.param("retried-1", "1 recipient made due now.", id="retried-one"),
        pytest.param("retried-3", "3 recipients made due now.", id="retried-three"),
        pytest.param("", None, id="none"),
        pytest.param("retried-", None, id="no-number"),
        pytest.param("retried-1-2", None, id="too-many"),
        pytest.param("cancelled-1-2", None, id="too-few"),
        pytest.param("cancelled-a-b-c", None, id="not-numbers"),
        pytest.param("deleted-1", None, id="unknown"),
        pytest.param("retried-99999999999", None, id="absurd"),
    ],
)
def test_the_retry_notice_and_edited_links(done: str, notice: str | None) -> None:
    assert notice_for(done) == notice


@given(st.one_of(st.text(max_size=40), st.from_regex(r"(retried|cancelled)(-\w{0,3}){0,4}")))
def test_only_the_known_forms_give_a_notice(done: str) -> None:
    known = re.fullmatch(r"retried-[0-9]{1,6}|cancelled(-[0-9]{1,6}){3}", done)
    assert (notice_for(done) is not None) == (known is not None)
