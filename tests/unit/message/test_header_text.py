"""Header text: folding, encoded words, parameters, the Date format."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from postillon.message.address import Address
from postillon.message.header_text import (
    address_list_tokens,
    encoded_words,
    fold,
    param_tokens,
    phrase_tokens,
)
from postillon.message.rfc5322_date import format_date


def test_fold_breaks_before_spaces_at_78() -> None:
    addresses = [Address(f"user{i}", "example.org", f"User {i}") for i in range(20)]
    folded = fold("To", address_list_tokens(addresses))
    lines = folded.split("\r\n")
    assert lines[-1] == ""
    assert all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:-1])
    assert folded.replace("\r\n", "").startswith("To: User 0 <user0@example.org>, User 1 <")


def test_long_non_ascii_name_folds_into_short_lines() -> None:
    folded = fold("From", address_list_tokens([Address("a", "b.example", "語" * 256)]))
    assert all(len(line) <= 78 for line in folded.split("\r\n"))


def test_encoded_words_keep_characters_whole() -> None:
    words = encoded_words("€" * 40)  # 3 octets each: 15 per 45-octet word
    decoded = [base64.b64decode(w.strip()[10:-2]).decode("utf-8") for w in words]
    assert decoded == ["€" * 15, "€" * 15, "€" * 10]
    assert all(len(w.strip()) <= 75 for w in words)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Jane Doe", ["Jane", " Doe"], id="atoms"),
        pytest.param("Doe, Jane", ['"Doe, Jane"'], id="special-quoted"),
        pytest.param('a "b" \\c', ['"a \\"b\\" \\\\c"'], id="escapes"),
        pytest.param("=?x?=", ["=?utf-8?B?PT94Pz0=?="], id="looks-encoded"),
        pytest.param("Zoë", ["=?utf-8?B?Wm/Dqw==?="], id="utf8"),
    ],
)
def test_phrase_tokens(name: str, expected: list[str]) -> None:
    assert phrase_tokens(name) == expected


def test_params_ascii_quoted_else_rfc2231() -> None:
    assert param_tokens("attachment", [("filename", "a b.pdf")]) == [
        "attachment;",
        ' filename="a b.pdf"',
    ]
    assert param_tokens("attachment", [("filename", "é.pdf")]) == [
        "attachment;",
        " filename*=utf-8''%C3%A9.pdf",
    ]
    continued = param_tokens("attachment", [("filename", "é" * 40)])
    assert continued[1].startswith(" filename*0*=utf-8''%C3%A9")
    assert continued[2].startswith(" filename*1*=%C3%A9")
    assert all("%" not in t[-2:] for t in continued)  # a %XX is never cut


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(
            datetime(2026, 11, 29, 4, 3, 18, tzinfo=UTC),
            "Sun, 29 Nov 2026 04:03:18 +0000",
            id="utc",
        ),
        pytest.param(
            datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            "Wed, 31 Dec 2025 23:00:00 +0000",
            id="converted-to-utc",
        ),
    ],
)
def test_date_format(moment: datetime, expected: str) -> None:
    assert format_date(moment) == expected


def test_date_needs_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        format_date(datetime(2026, 1, 1))
