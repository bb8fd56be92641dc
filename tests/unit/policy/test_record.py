"""The _mta-sts TXT record (RFC 8461 §3.1): choosing one candidate and parsing it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postillon.policy.model import NoPolicy
from postillon.policy.record import NO_RECORD, StsRecord, parse_sts_record, record_name


@pytest.mark.parametrize(
    ("answers", "expected_id"),
    [
        pytest.param(["v=STSv1; id=20160831085700Z;"], "20160831085700Z", id="rfc-example"),
        pytest.param(["v=STSv1;id=abc"], "abc", id="no-spaces-no-trailing-delim"),
        pytest.param(["v=STSv1 ;\tid=abc ; "], "abc", id="wsp-around-delims"),
        pytest.param(["v=STSv1; id=abc; ext=va.l-u_e"], "abc", id="extension-after"),
        pytest.param(["v=STSv1; x-y.z=1; id=abc"], "abc", id="extension-before"),
        pytest.param(["v=STSv1; id=" + "A1" * 16], "A1" * 16, id="id-32-chars"),
        pytest.param(["v=STSv1; id=first; id=second"], "first", id="repeated-id-first-wins"),
        pytest.param(["v=spf1 -all", "v=STSv1; id=1", "hello"], "1", id="among-other-txt"),
        pytest.param(["v=STSv1 id=x", "v=STSv1; id=2"], "2", id="non-candidate-discarded"),
    ],
)
def test_valid_records(answers: list[str], expected_id: str) -> None:
    assert parse_sts_record(answers) == StsRecord(id=expected_id)


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        pytest.param(["v=STSv1; id=1", "v=STSv1; id=2"], "exactly one", id="two-records"),
        pytest.param(["v=STSv1; id=1", "v=STSv1; id=1"], "exactly one", id="two-identical"),
        pytest.param(["v=STSv1;"], "no id", id="missing-id-trailing-delim"),
        pytest.param(["v=STSv1; ext=1"], "no id", id="missing-id-with-extension"),
        pytest.param(["v=STSv1; id=" + "a" * 33], "invalid id", id="id-33-chars"),
        pytest.param(["v=STSv1; id="], "invalid id", id="id-empty"),
        pytest.param(["v=STSv1; id=abc-def"], "invalid id", id="id-with-hyphen"),
        pytest.param(["v=STSv1; id=abc def"], "invalid id", id="id-with-space"),
        pytest.param(["v=STSv1;; id=1"], "malformed", id="empty-field"),
        pytest.param(["v=STSv1; id"], "malformed", id="field-without-equals"),
        pytest.param(["v=STSv1; id=1; _ext=1"], "malformed", id="ext-name-starts-with-underscore"),
        pytest.param(["v=STSv1; id=1; ext=a b"], "extension", id="ext-value-with-space"),
        pytest.param(["v=STSv1; id=1; ext="], "extension", id="ext-value-empty"),
        pytest.param(["v=STSv1; id=1; ext=a=b"], "extension", id="ext-value-with-equals"),
    ],
)
def test_invalid_records_mean_no_policy_with_a_reason(answers: list[str], reason: str) -> None:
    result = parse_sts_record(answers)
    assert isinstance(result, NoPolicy)
    assert result != NO_RECORD
    assert reason in result.reason


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param([], id="no-txt"),
        pytest.param(["v=spf1 -all"], id="only-spf"),
        pytest.param(["v=STSv1"], id="no-semicolon"),
        pytest.param(["V=STSv1; id=1"], id="version-tag-case"),
        pytest.param(["v=stsv1; id=1"], id="version-value-case"),
        pytest.param(["v=STSv10; id=1"], id="longer-version"),
        pytest.param(["v=STSv2; id=1"], id="other-version"),
        pytest.param([" v=STSv1; id=1"], id="leading-space"),
        pytest.param(["id=1; v=STSv1;"], id="version-not-first"),
    ],
)
def test_no_candidate_is_no_record(answers: list[str]) -> None:
    assert parse_sts_record(answers) is NO_RECORD


def test_record_name() -> None:
    assert record_name("example.com") == "_mta-sts.example.com"


@settings(deadline=None)  # a loaded CI machine must not fail a parser test
@given(st.lists(st.text(max_size=200), max_size=4))
def test_any_answer_parses_without_raising(answers: list[str]) -> None:
    assert isinstance(parse_sts_record(answers), StsRecord | NoPolicy)


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ids = st.text(alphabet=_ALNUM, min_size=1, max_size=32)
_ext_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", fullmatch=True).filter(
    lambda name: name != "id"
)
_ext_values = st.text(
    alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "S"), exclude_characters="=;"),
    min_size=1,
    max_size=20,
)
_wsp = st.sampled_from(["", " ", "\t", "  "])


@settings(deadline=None)  # a loaded CI machine must not fail a parser test
@given(
    record_id=_ids,
    before=st.lists(st.tuples(_ext_names, _ext_values), max_size=3),
    after=st.lists(st.tuples(_ext_names, _ext_values), max_size=3),
    pad=_wsp,
    trailing=st.booleans(),
    others=st.lists(st.text(max_size=30).filter(lambda t: not t.startswith("v=STSv1")), max_size=3),
)
def test_generated_valid_records_give_their_id(
    *,
    record_id: str,
    before: list[tuple[str, str]],
    after: list[tuple[str, str]],
    pad: str,
    trailing: bool,
    others: list[str],
) -> None:
    fields = [f"{n}={v}" for n, v in before] + [f"id={record_id}"] + [f"{n}={v}" for n, v in after]
    delim = f"{pad};{pad}"
    text = "v=STSv1" + delim + delim.join(fields) + (";" if trailing else "")
    assert parse_sts_record([*others, text]) == StsRecord(id=record_id)
