"""RFC 6376 §3.2 tag-lists: parsing, and the whitespace rule of p=."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.domains.tags import TagListError, parse_tag_list, without_whitespace


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("v=DKIM1; k=rsa; p=AB", {"v": "DKIM1", "k": "rsa", "p": "AB"}, id="plain"),
        pytest.param(" v = DKIM1 ;p=AB; ", {"v": "DKIM1", "p": "AB"}, id="spaces-trailing-semi"),
        pytest.param("p=", {"p": ""}, id="empty-value"),
        pytest.param("n=a=b", {"n": "a=b"}, id="equals-in-value"),
        pytest.param("V=DMARC1", {"V": "DMARC1"}, id="case-kept"),
        pytest.param("", {}, id="empty"),
    ],
)
def test_parse_tag_list(text: str, expected: dict[str, str]) -> None:
    assert parse_tag_list(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("v=DKIM1; p=A; p=B", id="duplicate"),
        pytest.param("v=DKIM1; junk", id="no-equals"),
        pytest.param("1v=x", id="bad-name"),
        pytest.param("v=DKIM1;; p=A", id="empty-spec"),
    ],
)
def test_parse_tag_list_refuses(text: str) -> None:
    with pytest.raises(TagListError):
        parse_tag_list(text)


_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True)
_VALUES = st.from_regex(r"[!-:<-~]([ !-:<-~]*[!-:<-~])?", fullmatch=True)


@given(tags=st.dictionaries(_NAMES, _VALUES, max_size=8), space=st.sampled_from(["", " ", "\t"]))
def test_tag_lists_round_trip(tags: dict[str, str], space: str) -> None:
    text = ";".join(f"{space}{name}{space}={space}{value}{space}" for name, value in tags.items())
    assert parse_tag_list(text) == tags


@given(text=st.text())
def test_any_text_parses_or_raises_tag_list_error(text: str) -> None:
    try:
        tags = parse_tag_list(text)
    except TagListError:
        return
    assert all(name.strip() == name and name for name in tags)


def test_without_whitespace_unfolds_base64() -> None:
    assert without_whitespace(" MIIB\r\n\tIjAN Bgkq ") == "MIIBIjANBgkq"
