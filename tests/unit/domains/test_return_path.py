"""The keyed return-path tag: made, read back, refused when altered; untagged old addresses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.domains import (
    InvalidDomainError,
    ReturnPath,
    TagKey,
    bounce_address,
    read_return_path,
    tagged_bounce_address,
)
from postillon.domains.return_path import (
    TAG_CHARS,
    read_unsubscribe_address,
    unsubscribe_address,
)

KEY = TagKey.derive(b"\x42" * 32)
OTHER_KEY = TagKey.derive(b"\x43" * 32)
MESSAGE_ID = "01JXAMPLE0000000000000000A"


def test_tagged_address_reads_back() -> None:
    address = tagged_bounce_address("Shop.Example", MESSAGE_ID, KEY)
    local, _, host = address.partition("@")
    assert host == "pstbounces.shop.example"
    assert local.startswith(f"bounces+{MESSAGE_ID}-")
    assert len(local) == len("bounces+") + len(MESSAGE_ID) + 1 + TAG_CHARS
    assert read_return_path(f"<{address}>", KEY) == ReturnPath(
        "shop.example", MESSAGE_ID, is_tagged=True, address=address
    )


def test_tag_survives_a_relay_that_changes_case_of_the_tag() -> None:
    address = tagged_bounce_address("shop.example", MESSAGE_ID, KEY)
    local, _, host = address.partition("@")
    head, _, tag = local.rpartition("-")
    found = read_return_path(f"{head}-{tag.upper()}@{host.upper()}", KEY)
    assert found is not None
    assert found.is_tagged


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda a: a.replace(MESSAGE_ID, MESSAGE_ID[:-1] + "B"), id="altered-id"),
        pytest.param(lambda a: a.replace("shop.example", "other.example"), id="moved-domain"),
        pytest.param(lambda a: a[: a.index("@") - 1] + "z" + a[a.index("@") :], id="altered-tag"),
    ],
)
def test_altered_address_is_refused(change: object) -> None:
    address = tagged_bounce_address("shop.example", MESSAGE_ID, KEY)
    altered = change(address)  # type: ignore[operator]
    assert altered != address
    assert read_return_path(altered, KEY) is None


def test_another_key_does_not_verify() -> None:
    address = tagged_bounce_address("shop.example", MESSAGE_ID, KEY)
    assert read_return_path(address, OTHER_KEY) is None


def test_untagged_address_of_an_older_message_reads_as_untagged() -> None:
    address = bounce_address("shop.example", MESSAGE_ID)
    assert read_return_path(address, KEY) == ReturnPath(
        "shop.example", MESSAGE_ID, is_tagged=False, address=address
    )


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("bob@example.net", id="not-ours"),
        pytest.param("bounces+x@example.net", id="no-return-path-domain"),
        pytest.param("bounces+@pstbounces.example.net", id="no-id"),
        pytest.param("abuse@pstbounces.example.net", id="other-local-part"),
    ],
)
def test_other_addresses_are_not_return_paths(address: str) -> None:
    assert read_return_path(address, KEY) is None


def test_id_too_long_for_a_tag_is_refused() -> None:
    with pytest.raises(InvalidDomainError):
        tagged_bounce_address("shop.example", "a" * 50, KEY)


def test_key_is_not_in_repr() -> None:
    assert repr(KEY) == "TagKey()"


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._]{0,40}[A-Za-z0-9]", fullmatch=True))
def test_any_id_round_trips(message_id: str) -> None:
    if ".." in message_id:
        return
    address = tagged_bounce_address("shop.example", message_id, KEY)
    found = read_return_path(address, KEY)
    assert found is not None
    assert (found.message_id, found.is_tagged) == (message_id, True)


def test_unsubscribe_address_reads_back_its_domain() -> None:
    assert unsubscribe_address("Shop.Example") == "unsubscribe@pstbounces.shop.example"
    assert read_unsubscribe_address("<UNSUBSCRIBE@pstbounces.shop.example.>") == "shop.example"
    assert read_unsubscribe_address("unsubscribe@shop.example") is None
    assert read_unsubscribe_address("bounces+x@pstbounces.shop.example") is None
    assert read_unsubscribe_address("unsubscribe@pstbounces.-bad-") is None
