"""Standard Webhooks signing: the published test vector, rotation headers, the id rule."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.webhooks.secret import WebhookSecret, parse_secret
from postillon.webhooks.signing import (
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    is_valid_msg_id,
    sign,
    signature_header,
    unix_seconds,
    webhook_headers,
)

# The vector every Standard Webhooks reference library tests its signer against
# (standard-webhooks/standard-webhooks, libraries/*/tests: test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OTHER = WebhookSecret(bytes(range(32)))


def test_the_published_test_vector() -> None:
    secret = parse_secret(VECTOR_SECRET)
    assert sign(secret, VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_one_changed_byte_changes_the_signature() -> None:
    secret = parse_secret(VECTOR_SECRET)
    assert sign(secret, VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_BODY + b" ") != VECTOR_SIGNATURE
    assert sign(secret, VECTOR_MSG_ID, VECTOR_TIMESTAMP + 1, VECTOR_BODY) != VECTOR_SIGNATURE


def test_rotation_signs_with_every_secret_space_delimited() -> None:
    old = parse_secret(VECTOR_SECRET)
    header = signature_header([OTHER, old], VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    first, second = header.split(" ")
    assert second == VECTOR_SIGNATURE
    assert first == sign(OTHER, VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_BODY)


def test_headers_carry_id_integer_timestamp_and_signature() -> None:
    headers = webhook_headers([OTHER], "msg_1", 1700000000, b"{}")
    assert headers == {
        HEADER_ID: "msg_1",
        HEADER_TIMESTAMP: "1700000000",
        HEADER_SIGNATURE: sign(OTHER, "msg_1", 1700000000, b"{}"),
    }
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}


def test_signing_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        signature_header([], "msg_1", 1, b"{}")


@pytest.mark.parametrize(
    ("msg_id", "valid"),
    [
        pytest.param("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", True, id="spec-example"),
        pytest.param("a-b_C9", True, id="dash-underscore"),
        pytest.param("msg.1", False, id="dot-makes-signed-content-ambiguous"),
        pytest.param("", False, id="empty"),
        pytest.param("msg 1", False, id="space"),
        pytest.param("msg\r\nX: y", False, id="header-injection"),
        pytest.param("x" * 129, False, id="too-long"),
    ],
)
def test_webhook_id_rule(msg_id: str, valid: bool) -> None:
    assert is_valid_msg_id(msg_id) is valid
    if not valid:
        with pytest.raises(ValueError, match="webhook-id"):
            sign(OTHER, msg_id, 1, b"{}")


def test_timestamp_is_whole_unix_seconds_of_an_aware_time() -> None:
    moment = datetime(2021, 2, 25, 15, 2, 10, 999_999, tzinfo=UTC)
    assert unix_seconds(moment) == VECTOR_TIMESTAMP
    assert unix_seconds(moment.astimezone(timezone(timedelta(hours=5)))) == VECTOR_TIMESTAMP
    with pytest.raises(ValueError, match="aware"):
        unix_seconds(datetime(2021, 2, 25))


@given(
    key=st.binary(min_size=24, max_size=64), body=st.binary(max_size=512), ts=st.integers(0, 2**40)
)
def test_signature_is_hmac_sha256_over_id_dot_timestamp_dot_body(
    key: bytes, body: bytes, ts: int
) -> None:
    expected = hmac.new(key, b"msg_x." + str(ts).encode() + b"." + body, hashlib.sha256).digest()
    version, encoded = sign(WebhookSecret(key), "msg_x", ts, body).split(",")
    assert version == "v1"
    assert base64.b64decode(encoded, validate=True) == expected
