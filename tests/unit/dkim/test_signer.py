"""The signer, checked by dkimpy: what it signs, that signatures verify for awkward messages,
and that tampering breaks them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from postillon.clock import FakeClock
from postillon.dkim.canonical import Canon, normalize_line_endings
from postillon.dkim.errors import LineTooLongError, MalformedMessageError
from postillon.dkim.keys import SigningKey
from postillon.dkim.signer import FOLD_WIDTH, DkimSigner, sign_message
from postillon.errors import ConfigError
from tests.unit.dkim.oracle import dkimpy_verify

DOMAIN = "example.com"
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
HEAD = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: Hello\r\n"
    b"Date: Sun, 29 Nov 2026 04:00:00 +0000\r\n"
    b"Message-ID: <1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
)


def signer(key: SigningKey, selector: str = "rsa", **kw: object) -> DkimSigner:
    return DkimSigner(DOMAIN, selector, key, FakeClock(NOW), **kw)  # type: ignore[arg-type]


def tags(signed: bytes) -> dict[str, str]:
    """The tags of the first DKIM-Signature field, unfolded."""
    first = signed.split(b"\r\n\r\n", 1)[0].decode()
    value = re.match(r"DKIM-Signature:(.*?)\r\n(?![ \t])", first, re.S)
    assert value is not None
    text = re.sub(r"\s+", "", value.group(1))
    return dict(t.split("=", 1) for t in text.split(";") if t)


CASES = [
    pytest.param(HEAD + b"\r\nplain body\r\n", id="plain"),
    pytest.param(HEAD + b"\r\ntrailing spaces   \r\nand tabs\t\t\r\n", id="trailing-spaces"),
    pytest.param(HEAD + b"\r\nbody\r\n\r\n\r\n\r\n", id="blank-lines-at-end"),
    pytest.param(HEAD + "\r\nGrüße, café, 日本語 ✉\r\n".encode(), id="8bit-utf8"),
    pytest.param(
        HEAD + b"\r\n" + b"x" * 998 + b"\r\n" + b"y " * 499 + b"\r\n", id="998-octet-lines"
    ),
    pytest.param(
        (HEAD + b"\r\nline one\r\nline two  \r\n\r\n").replace(b"\r\n", b"\n"), id="lf-only"
    ),
    pytest.param(HEAD + b"\r\n", id="empty-body"),
    pytest.param(HEAD, id="no-body-separator"),
    pytest.param(
        HEAD + b"To: Carol <carol@example.org>\r\nTo: dave@example.org\r\n\r\nhi\r\n", id="three-to"
    ),
    pytest.param(
        HEAD + b"Cc: one@example.org,\r\n two@example.org,\r\n\tthree@example.org\r\n"
        b"Subject: second  subject\r\n\r\nhi\r\n",
        id="folded-and-repeated",
    ),
    pytest.param(
        b"FROM:alice@example.com\r\nsubject:\tno space\r\n\r\nhi\r\n", id="odd-case-and-spacing"
    ),
    pytest.param(HEAD + b"\r\nno final newline", id="no-final-crlf"),
]


@pytest.mark.parametrize("message", CASES)
@pytest.mark.parametrize(
    ("header_canon", "body_canon"),
    [
        pytest.param(Canon.RELAXED, Canon.RELAXED, id="relaxed-relaxed"),
        pytest.param(Canon.SIMPLE, Canon.SIMPLE, id="simple-simple"),
    ],
)
def test_dkimpy_verifies_rsa_and_ed25519(
    message: bytes,
    header_canon: Canon,
    body_canon: Canon,
    rsa_key: SigningKey,
    ed_key: SigningKey,
) -> None:
    signers = [
        signer(rsa_key, "rsa", header_canon=header_canon, body_canon=body_canon),
        signer(ed_key, "ed", header_canon=header_canon, body_canon=body_canon),
    ]
    signed = sign_message(message, signers)
    assert dkimpy_verify(signed, {"rsa": rsa_key, "ed": ed_key}, DOMAIN) == [True, True]


def test_signed_message_is_the_normalised_message_after_the_fields(rsa_key: SigningKey) -> None:
    message = b"From: a@example.com\nSubject: x\n\nbody\n"
    signed = sign_message(message, [signer(rsa_key)])
    assert signed.endswith(normalize_line_endings(message))
    assert signed.startswith(b"DKIM-Signature: ")
    assert signer(rsa_key).signature_field(message) + normalize_line_endings(message) == signed


TAMPERING = [
    pytest.param(lambda m: m.replace(b"plain body", b"plain bodY"), id="body-changed"),
    pytest.param(lambda m: m + b"appended\r\n", id="body-appended"),
    pytest.param(lambda m: m.replace(b"Subject: Hello", b"Subject: Hullo"), id="subject-changed"),
    pytest.param(lambda m: m.replace(b"bob@", b"eve@"), id="to-changed"),
    pytest.param(
        lambda m: m.replace(b"From: Alice", b"From: Mallory <m@evil.example>\r\nFrom: Alice"),
        id="from-added-above",
    ),
    pytest.param(
        lambda m: m.replace(b"\r\n\r\n", b"\r\nFrom: Mallory <m@evil.example>\r\n\r\n", 1),
        id="from-added-below",
    ),
    pytest.param(lambda m: m.replace(b"MIME-Version: 1.0\r\n", b""), id="signed-header-removed"),
]


@pytest.mark.parametrize("tamper", TAMPERING)
@pytest.mark.parametrize("selector", ["rsa", "ed"])
def test_tampering_breaks_the_signature(
    tamper: object, selector: str, rsa_key: SigningKey, ed_key: SigningKey
) -> None:
    key = rsa_key if selector == "rsa" else ed_key
    signed = sign_message(HEAD + b"\r\nplain body\r\n", [signer(key, selector)])
    assert dkimpy_verify(signed, {selector: key}, DOMAIN) == [True]
    assert callable(tamper)
    changed = tamper(signed)
    assert changed != signed
    assert dkimpy_verify(changed, {selector: key}, DOMAIN) == [False]


def test_unsigned_header_may_change(rsa_key: SigningKey) -> None:
    """The control for the tampering table: a field we do not sign is not protected."""
    signed = sign_message(HEAD + b"X-Mailer: a\r\n\r\nhi\r\n", [signer(rsa_key)])
    changed = signed.replace(b"X-Mailer: a", b"X-Mailer: b")
    assert dkimpy_verify(changed, {"rsa": rsa_key}, DOMAIN) == [True]


def test_h_lists_present_fields_every_occurrence_and_from_once_more(rsa_key: SigningKey) -> None:
    message = HEAD + b"To: c@example.org\r\nX-Other: 1\r\n\r\nhi\r\n"
    got = tags(sign_message(message, [signer(rsa_key)]))
    assert got["h"].split(":") == [
        "from",
        "from",
        "to",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    ]


def test_tags(rsa_key: SigningKey, ed_key: SigningKey) -> None:
    got = tags(sign_message(HEAD + b"\r\nhi\r\n", [signer(rsa_key)]))
    assert got["v"] == "1"
    assert got["a"] == "rsa-sha256"
    assert got["c"] == "relaxed/relaxed"
    assert got["d"] == DOMAIN
    assert got["s"] == "rsa"
    assert got["t"] == str(int(NOW.timestamp()))
    assert "x" not in got
    assert "l" not in got
    expiring = signer(ed_key, "ed", expire_after=timedelta(days=7))
    got = tags(sign_message(HEAD + b"\r\nhi\r\n", [expiring]))
    assert got["a"] == "ed25519-sha256"
    assert got["x"] == str(int((NOW + timedelta(days=7)).timestamp()))


def test_field_is_folded_within_78_columns(rsa_key: SigningKey) -> None:
    field = signer(rsa_key).signature_field(HEAD + b"\r\nhi\r\n")
    lines = field.split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line) <= FOLD_WIDTH for line in lines)
    assert all(line.startswith(b" ") for line in lines[1:-1])
    assert len(lines) > 4  # a 2048-bit b= alone needs several lines


@pytest.mark.parametrize(
    ("message", "error"),
    [
        pytest.param(HEAD + b"\r\n" + b"x" * 999 + b"\r\n", LineTooLongError, id="999-octet-line"),
        pytest.param(
            HEAD.replace(b"Subject: Hello", b"Subject: " + b"h" * 990),
            LineTooLongError,
            id="long-header",
        ),
        pytest.param(b"To: b@example.net\r\n\r\nhi\r\n", MalformedMessageError, id="no-from"),
        pytest.param(b"From a@example.com\r\n\r\nhi\r\n", MalformedMessageError, id="no-colon"),
        pytest.param(
            b" From: a@example.com\r\n\r\nhi\r\n", MalformedMessageError, id="leading-fold"
        ),
    ],
)
def test_refuses_what_it_cannot_sign_faithfully(
    message: bytes, error: type[Exception], rsa_key: SigningKey
) -> None:
    with pytest.raises(error):
        signer(rsa_key).signature_field(message)


@pytest.mark.parametrize(
    ("domain", "selector"),
    [
        pytest.param("example.com; x=1", "s", id="semicolon-in-domain"),
        pytest.param("example.com", "s\r\nBcc: x", id="crlf-in-selector"),
        pytest.param("", "s", id="empty-domain"),
        pytest.param("example..com", "s", id="empty-label"),
        pytest.param("example.com\n", "s", id="trailing-newline"),
    ],
)
def test_refuses_names_that_would_inject(domain: str, selector: str, rsa_key: SigningKey) -> None:
    with pytest.raises(ConfigError):
        DkimSigner(domain, selector, rsa_key, FakeClock(NOW))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(("subject",), id="no-from"),
        pytest.param(("from", "x;y"), id="semicolon"),
        pytest.param(("from", "to:cc"), id="colon"),
        pytest.param(("from", "sübject"), id="non-ascii"),
        pytest.param(("from", "to\n"), id="trailing-newline"),
    ],
)
def test_refuses_bad_signed_header_lists(headers: tuple[str, ...], rsa_key: SigningKey) -> None:
    with pytest.raises(ConfigError):
        DkimSigner(DOMAIN, "s", rsa_key, FakeClock(NOW), signed_headers=headers)


def test_header_names_are_case_insensitive(rsa_key: SigningKey) -> None:
    custom = signer(
        rsa_key,
        signed_headers=("From", "SUBJECT", "X-Custom"),
        oversigned_headers=frozenset({"Subject", "FROM"}),
    )
    signed = sign_message(HEAD + b"x-custom: 1\r\n\r\nhi\r\n", [custom])
    assert tags(signed)["h"] == "from:from:subject:subject:x-custom"
    assert dkimpy_verify(signed, {"rsa": rsa_key}, DOMAIN) == [True]
