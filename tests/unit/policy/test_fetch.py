"""The fetcher's pure parts: the policy URL and the error tree (network tests: integration/)."""

from __future__ import annotations

import pytest

from postillon.errors import ConnectError, TimeoutPhaseError, TlsError
from postillon.policy import errors
from postillon.policy.fetch import policy_url


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        pytest.param(443, "https://mta-sts.example.com/.well-known/mta-sts.txt", id="default"),
        pytest.param(8443, "https://mta-sts.example.com:8443/.well-known/mta-sts.txt", id="other"),
    ],
)
def test_policy_url(port: int, expected: str) -> None:
    assert str(policy_url("example.com", port)) == expected


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param(errors.PolicyConnectError("x"), ConnectError, id="connect"),
        pytest.param(errors.PolicyTlsError("x"), TlsError, id="tls"),
        pytest.param(errors.PolicyTimeoutError("the policy", 2.0), TimeoutPhaseError, id="timeout"),
        pytest.param(errors.PolicyRedirectError("x"), errors.PolicyHttpError, id="redirect"),
        pytest.param(errors.PolicyContentTypeError("x"), errors.PolicyFetchError, id="type"),
        pytest.param(errors.PolicyTooLargeError("x"), errors.PolicyFetchError, id="size"),
    ],
)
def test_every_fetch_error_is_temporary_and_of_its_kind(
    error: errors.PolicyFetchError, kind: type[Exception]
) -> None:
    assert error.is_transient
    assert isinstance(error, errors.PolicyFetchError)
    assert isinstance(error, kind)
