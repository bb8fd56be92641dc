"""RFC 8463 Appendix A: the Ed25519 example, reproduced with our code and checked by dkimpy."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

import dkim
from cryptography.hazmat.primitives.asymmetric import ed25519

from postillon.clock import FakeClock
from postillon.dkim.canonical import Canon, body_hash, relaxed_header
from postillon.dkim.fields import split_message
from postillon.dkim.keys import SigningKey
from postillon.dkim.signer import DkimSigner, sign_message

# Appendix A.1/A.2: the Ed25519 secret key (RFC 8032 test 1) and its key record.
SECRET_KEY = base64.b64decode("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
KEY_RECORD = b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
# Appendix A.3: the signed message (its RSA signature left out: its key is not needed here).
ED_SIGNATURE = (
    b"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    b" d=football.example.com; i=@football.example.com;\r\n"
    b" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    b" subject : date : message-id : from : subject : date;\r\n"
    b" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    b" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    b" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
)
MESSAGE = (
    b"From: Joe SixPack <joe@football.example.com>\r\n"
    b"To: Suzie Q <suzie@shopping.example.net>\r\n"
    b"Subject: Is dinner ready?\r\n"
    b"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    b"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    b"\r\n"
    b"Hi.\r\n"
    b"\r\n"
    b"We lost the game.  Are you hungry yet?\r\n"
    b"\r\n"
    b"Joe.\r\n"
)
RFC_ED_B = (
    b"/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="
)
SIGNED_AT = datetime.fromtimestamp(1528637909, UTC)


def _dns(name: bytes, timeout: int = 5) -> bytes:
    return KEY_RECORD if name == b"brisbane._domainkey.football.example.com." else b""


def test_dkimpy_verifies_the_rfc_example() -> None:
    """The oracle itself works for Ed25519 (it needs PyNaCl)."""
    assert dkim.DKIM(ED_SIGNATURE + MESSAGE).verify(dnsfunc=_dns)


def test_our_body_hash_is_the_rfc_one() -> None:
    assert body_hash(split_message(MESSAGE).body, Canon.RELAXED) == (
        "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
    )


def test_our_header_canonicalization_and_ed25519_reproduce_the_rfc_signature() -> None:
    """Ed25519 is deterministic: the same key over the same hash gives the RFC's b= exactly."""
    fields = {f.key: f for f in split_message(MESSAGE).fields}
    signed = [fields[name] for name in (b"from", b"to", b"subject", b"date", b"message-id")]
    data = b"".join(relaxed_header(f.name, f.value) + b"\r\n" for f in signed)
    own_value = re.sub(rb"b=[^;]*$", b"b=", ED_SIGNATURE.partition(b":")[2].rstrip(b"\r\n"))
    data += relaxed_header(b"DKIM-Signature", own_value)
    key = ed25519.Ed25519PrivateKey.from_private_bytes(SECRET_KEY)
    got = base64.b64encode(key.sign(hashlib.sha256(data).digest()))
    assert got == RFC_ED_B


def test_our_signer_with_the_rfc_key_verifies_against_the_rfc_record() -> None:
    key = SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(SECRET_KEY))
    assert key.txt_record().encode() == KEY_RECORD
    signer = DkimSigner(
        "football.example.com",
        "brisbane",
        key,
        FakeClock(SIGNED_AT),
        oversigned_headers=frozenset({"from", "subject", "date"}),
    )
    signed = sign_message(MESSAGE, [signer])
    assert b"bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;" in signed
    assert b"t=1528637909;" in signed
    assert dkim.DKIM(signed).verify(dnsfunc=_dns)
