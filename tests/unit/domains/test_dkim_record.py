"""dkim_key_problem: when a published key record verifies our signatures, and why not."""

from __future__ import annotations

import pytest

from postillon.domains.verify import dkim_key_problem

OURS = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx"


@pytest.mark.parametrize(
    "published",
    [
        pytest.param(OURS, id="same"),
        pytest.param("p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx", id="only-p"),
        pytest.param("v=DKIM1;k=rsa;p=MIIBIjANBgkqhkiG9w0B AQEFAAOCAQ8AMIIBCgKCAQEAx;", id="ws"),
        pytest.param(OURS + "; t=y; s=email; h=sha1:sha256", id="more-tags"),
        pytest.param(OURS + "; s=*", id="any-service"),
    ],
)
def test_usable_records(published: str) -> None:
    assert dkim_key_problem(OURS, published) is None


@pytest.mark.parametrize(
    ("published", "problem_part"),
    [
        pytest.param("v=DKIM1; k=rsa; p=MIIBother", "not this domain's key", id="other-key"),
        pytest.param("v=DKIM1; k=rsa; p=", "revoked", id="revoked"),
        pytest.param("v=DKIM1; k=rsa", "revoked", id="no-p"),
        pytest.param("v=DKIM2; " + OURS[9:], "DKIM1", id="version"),
        pytest.param("k=rsa; v=DKIM1; p=x", "first", id="version-late"),
        pytest.param(OURS.replace("k=rsa", "k=ed25519"), "k=ed25519", id="key-type"),
        pytest.param(OURS + "; h=sha1", "sha256", id="sha1"),
        pytest.param(OURS + "; s=tlsrpt", "email", id="service"),
        pytest.param("this is a website verification", "not a DKIM key record", id="junk"),
    ],
)
def test_unusable_records(published: str, problem_part: str) -> None:
    problem = dkim_key_problem(OURS, published)
    assert problem is not None
    assert problem_part in problem
