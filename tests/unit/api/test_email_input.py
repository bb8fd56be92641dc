"""Request bodies to service requests; fingerprints; problem names in the caller's words."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.api.email_input import caller_fields, fingerprint, send_request
from postillon.api.email_schema import SendEmailBody
from postillon.message.errors import ValidationProblem
from postillon.message.model import NamedAddress


def _body(**fields: Any) -> SendEmailBody:
    data: dict[str, Any] = {"from": "a@sender.test", "to": "b@example.test", "text": "hi"}
    data.update(fields)
    return SendEmailBody.model_validate(data)


def test_send_request_carries_every_field() -> None:
    body = _body(
        **{"from": {"email": "a@sender.test", "name": "A"}},
        to=["b@example.test", {"email": "c@example.test"}],
        cc="d@example.test",
        headers={"X-One": "1", "X-Two": "2"},
        attachments=[{"content": base64.b64encode(b"\x00\xff").decode(), "filename": "f.bin"}],
        tags=["welcome"],
        metadata={"order": "42"},
        scheduled_at="2026-12-01T10:00:00+02:00",
    )
    request = send_request(body)
    assert request.email.from_ == NamedAddress("a@sender.test", "A")
    assert request.email.to == ("b@example.test", NamedAddress("c@example.test", None))
    assert request.email.cc == ("d@example.test",)
    assert request.email.headers == (("X-One", "1"), ("X-Two", "2"))
    assert request.email.attachments[0].content == b"\x00\xff"
    assert request.email.attachments[0].content_type == "application/octet-stream"
    assert request.tags == ("welcome",)
    assert request.metadata == {"order": "42"}
    assert request.scheduled_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "named"),
    [
        pytest.param("to[0]", "to", id="single-to"),
        pytest.param("to[0].email", "to.email", id="single-to-object"),
        pytest.param("cc[0]", "cc[0]", id="list-cc-kept"),
        pytest.param("to[01]", "to[01]", id="not-the-first"),
        pytest.param("subject", "subject", id="other"),
    ],
)
def test_caller_fields_name_single_values_as_written(field: str, named: str) -> None:
    body = _body(to={"email": "b@example.test"}, cc=["c@example.test"])
    [problem] = caller_fields([ValidationProblem(field, "bad")], [body], batch=False)
    assert problem.field == named


def test_caller_fields_in_a_batch_keep_the_index() -> None:
    bodies = [_body(to=["x@example.test"]), _body(to="y@example.test")]
    problems = [ValidationProblem("[0].to[0]", "bad"), ValidationProblem("[1].to[0]", "bad")]
    assert [p.field for p in caller_fields(problems, bodies, batch=True)] == ["[0].to[0]", "[1].to"]


def test_fingerprint_ignores_key_order_and_spacing() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert len(fingerprint({})) == 64


@given(st.text())
def test_fingerprint_takes_any_text_even_lone_surrogates(text: str) -> None:
    assert len(fingerprint({"subject": text})) == 64
