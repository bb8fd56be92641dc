"""Every field that ends up in a header is bounded, so no header line passes 998 octets, and a
line that would is refused as invalid input (never an assert that ``python -O`` drops)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from postillon.message.errors import InvalidMessageError
from postillon.message.header_text import fold
from postillon.message.model import Attachment, NamedAddress, OutgoingEmail
from postillon.message.validate import (
    MAX_CONTENT_ID_CHARS,
    MAX_FILENAME_CHARS,
    MAX_SUBJECT_CHARS,
    validate,
)
from tests.unit.message.wire import assert_wire_safe, build

LIMIT = 1024 * 1024


def test_a_long_attachment_content_type_is_refused_naming_it() -> None:
    attachment = Attachment(b"x", "a.bin", "application/" + "x" * 1000)
    message = OutgoingEmail(
        from_="s@sender.example", to=("a@r.example",), text="t", attachments=(attachment,)
    )
    with pytest.raises(InvalidMessageError) as refused:
        validate(message, max_message_bytes=LIMIT)
    assert [p.field for p in refused.value.problems] == ["attachments[0].content_type"]
    assert "127" in refused.value.problems[0].message


def test_every_header_field_at_its_bound_still_makes_lines_under_998() -> None:
    name = "N" * 200 + " " + "é" * 55
    longest_type = "a" * 127 + "/" + "b" * 127
    message = OutgoingEmail(
        from_=NamedAddress("s@sender.example", name),
        to=tuple(NamedAddress(f"{'l' * 64}@{'d' * 63}.example", name) for _ in range(3)),
        reply_to=(NamedAddress("r@sender.example", name),),
        subject="S" * MAX_SUBJECT_CHARS,
        text="t",
        html='<img src="cid:' + "c" * MAX_CONTENT_ID_CHARS + '">',
        attachments=(
            Attachment(b"x", "f" * MAX_FILENAME_CHARS, longest_type),
            Attachment(b"y", "ü" * MAX_FILENAME_CHARS, longest_type, "c" * MAX_CONTENT_ID_CHARS),
        ),
        headers=(("X-Long", "v" * 900),),
    )
    assert_wire_safe(build(message).data)


def test_an_unfoldable_line_is_invalid_input() -> None:
    with pytest.raises(InvalidMessageError, match="998"):
        fold("X-Test", ["w" * 1000])


def test_an_unfoldable_line_is_refused_under_python_dash_o() -> None:
    code = (
        "from postillon.message.header_text import fold\n"
        "from postillon.message.errors import InvalidMessageError\n"
        "try:\n    fold('X-Test', ['w' * 1000])\n"
        "except InvalidMessageError:\n    print('refused')\n"
    )
    result = subprocess.run(
        [sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "refused"
