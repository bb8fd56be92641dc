"""The policy fetcher against a real HTTPS server on 127.0.0.60:443 with trustme certificates."""

from __future__ import annotations

import pytest

from postillon.config.settings import MtaStsSettings, TlsSettings
from postillon.policy.errors import (
    PolicyConnectError,
    PolicyContentTypeError,
    PolicyFetchError,
    PolicyHttpError,
    PolicyRedirectError,
    PolicyTimeoutError,
    PolicyTlsError,
    PolicyTooLargeError,
)
from postillon.policy.fetch import MAX_POLICY_BYTES, PolicyFetcher
from tests.integration.policy.conftest import StaticDns, policy_body, policy_server
from tests.support.certs import CertKind, TestPki
from tests.support.https_server import ScriptedResponse

pytestmark = pytest.mark.timeout(30)

IP = "127.0.0.60"
DOMAIN = "fetch.example"
# Bigger than the cap, so a reader that ignores the cap would return it whole.
OVERSIZE = b"x" * (4 * MAX_POLICY_BYTES)


async def test_good_policy_is_fetched_from_the_well_known_path(
    pki: TestPki, dns: StaticDns, fetcher: PolicyFetcher
) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=policy_body())
        body = await fetcher.fetch(DOMAIN)
    assert body == policy_body()
    assert [(r.method, r.path, r.host) for r in server.requests] == [
        ("GET", "/.well-known/mta-sts.txt", f"mta-sts.{DOMAIN}")
    ]


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain; charset=utf-8", id="charset"),
        pytest.param("TEXT/PLAIN", id="upper-case"),
    ],
)
async def test_text_plain_with_parameters_is_accepted(
    pki: TestPki, dns: StaticDns, fetcher: PolicyFetcher, content_type: str
) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(content_type=content_type, body=policy_body())
        assert await fetcher.fetch(DOMAIN) == policy_body()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_of_exactly_the_cap_is_accepted(
    pki: TestPki, dns: StaticDns, fetcher: PolicyFetcher, chunked: bool
) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    body = b"y" * MAX_POLICY_BYTES
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = ScriptedResponse(body=body, chunked=chunked)
        assert await fetcher.fetch(DOMAIN) == body


@pytest.mark.parametrize(
    ("response", "error"),
    [
        pytest.param(ScriptedResponse(body=OVERSIZE), PolicyTooLargeError, id="oversize-declared"),
        pytest.param(
            ScriptedResponse(body=OVERSIZE, chunked=True), PolicyTooLargeError, id="oversize-stream"
        ),
        pytest.param(
            ScriptedResponse(status=301, location="/moved"), PolicyRedirectError, id="redirect-301"
        ),
        pytest.param(
            ScriptedResponse(status=307, location="https://elsewhere.example/"),
            PolicyRedirectError,
            id="redirect-307",
        ),
        pytest.param(ScriptedResponse(status=404), PolicyHttpError, id="status-404"),
        pytest.param(ScriptedResponse(status=500), PolicyHttpError, id="status-500"),
        pytest.param(ScriptedResponse(status=204), PolicyHttpError, id="status-204"),
        pytest.param(
            ScriptedResponse(content_type="text/html", body=policy_body()),
            PolicyContentTypeError,
            id="content-type-html",
        ),
        pytest.param(
            ScriptedResponse(content_type=None, body=policy_body()),
            PolicyContentTypeError,
            id="content-type-default-octet-stream",
        ),
        pytest.param(
            ScriptedResponse(body=policy_body(), headers={"Content-Encoding": "gzip"}),
            PolicyHttpError,
            id="content-encoding-gzip",
        ),
    ],
)
async def test_bad_responses_are_typed_temporary_errors(
    pki: TestPki,
    dns: StaticDns,
    fetcher: PolicyFetcher,
    response: ScriptedResponse,
    error: type[PolicyFetchError],
) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP) as server:
        server.response = response
        with pytest.raises(error) as caught:
            await fetcher.fetch(DOMAIN)
    assert caught.value.is_transient
    # Redirects are never followed: the server saw exactly one request.
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("self_signed", id="wrong-ca-self-signed"),
        pytest.param("wrong_name", id="wrong-host-name"),
        pytest.param("expired", id="expired"),
    ],
)
async def test_certificates_that_do_not_verify_for_the_policy_host_fail(
    pki: TestPki, dns: StaticDns, fetcher: PolicyFetcher, kind: CertKind
) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    async with policy_server(pki, DOMAIN, IP, kind) as server:
        server.response = ScriptedResponse(body=policy_body())
        with pytest.raises(PolicyTlsError):
            await fetcher.fetch(DOMAIN)
    assert server.requests == []


async def test_the_test_ca_is_trusted_only_through_the_configured_ca_file(
    pki: TestPki, dns: StaticDns
) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    settings = MtaStsSettings(fetch_timeout_s=5.0)
    async with (
        policy_server(pki, DOMAIN, IP) as server,
        PolicyFetcher(dns, settings=settings, tls=TlsSettings()) as system_cas_only,
    ):
        server.response = ScriptedResponse(body=policy_body())
        with pytest.raises(PolicyTlsError):
            await system_cas_only.fetch(DOMAIN)


async def test_the_policy_host_is_resolved_through_the_injected_resolver(
    pki: TestPki, dns: StaticDns, fetcher: PolicyFetcher
) -> None:
    # No address in our resolver: the system resolver is never asked (it would not know either).
    dns.publish(DOMAIN)
    async with policy_server(pki, DOMAIN, IP):
        with pytest.raises(PolicyConnectError):
            await fetcher.fetch(DOMAIN)


async def test_nothing_listening_is_a_connect_error(dns: StaticDns, fetcher: PolicyFetcher) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    with pytest.raises(PolicyConnectError):
        await fetcher.fetch(DOMAIN)


async def test_a_server_that_never_answers_times_out(
    pki: TestPki, dns: StaticDns, tls_settings: TlsSettings
) -> None:
    dns.publish(DOMAIN, policy_host_ip=IP)
    settings = MtaStsSettings(fetch_timeout_s=0.5)
    async with (
        policy_server(pki, DOMAIN, IP) as server,
        PolicyFetcher(dns, settings=settings, tls=tls_settings) as impatient,
    ):
        server.response = ScriptedResponse(hang=True)
        with pytest.raises(PolicyTimeoutError):
            await impatient.fetch(DOMAIN)


@pytest.mark.parametrize(
    "domain",
    [
        pytest.param("evil.example/../x", id="path"),
        pytest.param("user@evil.example", id="userinfo"),
        pytest.param("", id="empty"),
    ],
)
async def test_a_domain_that_is_not_a_host_name_is_refused_before_any_io(
    dns: StaticDns, fetcher: PolicyFetcher, domain: str
) -> None:
    with pytest.raises(PolicyConnectError):
        await fetcher.fetch(domain)
