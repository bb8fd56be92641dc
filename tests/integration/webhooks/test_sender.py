"""The sender against real receivers on 127.0.0.8x: SSRF at send time, no redirects, limits."""

from __future__ import annotations

import pytest

from postillon.clock import SystemClock
from postillon.config.settings import WebhookSettings
from postillon.webhooks.guard import TargetGuard
from postillon.webhooks.result import FailureKind
from postillon.webhooks.sender import MAX_SNIPPET_BYTES, SystemResolver, WebhookSender
from tests.integration.webhooks.receiver import Answer, WebhookReceiver
from tests.integration.webhooks.scripted_resolver import ScriptedResolver
from tests.support.certs import TestPki

pytestmark = pytest.mark.timeout(30)

BODY = b'{"type":"email.queued","timestamp":"2026-03-01T12:00:00.000000Z","data":{}}'
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,x"}


def allowing(*cidrs: str) -> TargetGuard:
    """A guard whose allowlist is ``cidrs`` (what ``[webhooks] allow_private_networks`` sets)."""
    return TargetGuard.from_settings(WebhookSettings(allow_private_networks=cidrs))


def sender(guard: TargetGuard, **kwargs: object) -> WebhookSender:
    return WebhookSender(guard, clock=SystemClock(), **kwargs)  # type: ignore[arg-type]


async def test_a_post_carries_the_body_and_headers() -> None:
    async with WebhookReceiver("127.0.0.80", [Answer(200, b"thanks")]) as receiver:
        result = await sender(allowing("127.0.0.80/32")).send(receiver.url(), BODY, HEADERS)
    assert result.is_success
    assert (result.status, result.snippet, result.error) == (200, "thanks", None)
    (arrival,) = receiver.arrivals
    assert arrival.body == BODY
    assert arrival.headers["content-type"] == "application/json"
    assert {k: arrival.headers[k] for k in HEADERS} == HEADERS


@pytest.mark.parametrize(
    ("cidrs", "delivered"),
    [
        pytest.param((), False, id="no-allowlist"),
        pytest.param(("127.0.0.85/32",), False, id="other-address-listed"),
        pytest.param(("127.0.0.84/32",), True, id="listed"),
        pytest.param(("127.0.0.80/29",), True, id="listed-network"),
    ],
)
async def test_the_allowlist_permits_a_loopback_receiver_only_when_listed(
    cidrs: tuple[str, ...], delivered: bool
) -> None:
    async with WebhookReceiver("127.0.0.84") as receiver:
        result = await sender(allowing(*cidrs)).send(receiver.url(), BODY, HEADERS)
    assert result.is_success is delivered
    assert len(receiver.arrivals) == (1 if delivered else 0)
    if not delivered:
        assert result.failure is FailureKind.UNSAFE_TARGET
        assert "loopback" in (result.error or "")


async def test_a_name_is_connected_to_its_vetted_address_only_rebinding_changes_nothing() -> None:
    # The first answer is allowed; any later lookup would say 127.0.0.1 (a rebinding attack).
    resolver = ScriptedResolver({"hooks.test": [["127.0.0.87"], ["127.0.0.1"]]})
    guard = allowing("127.0.0.87/32")
    async with WebhookReceiver("127.0.0.87") as receiver:
        result = await sender(guard, resolver=resolver).send(
            receiver.url(host="hooks.test"), BODY, HEADERS
        )
    assert result.is_success, result
    # Only 127.0.0.87 listens on this port: the request arriving proves where it connected.
    assert resolver.calls == ["hooks.test"]
    assert receiver.arrivals[0].host == f"hooks.test:{receiver.port}"


async def test_a_name_with_one_unlisted_address_is_refused_before_connecting() -> None:
    resolver = ScriptedResolver({"hooks.test": [["127.0.0.86", "127.0.0.1"]]})
    async with WebhookReceiver("127.0.0.86") as receiver:
        result = await sender(allowing("127.0.0.86/32"), resolver=resolver).send(
            receiver.url(host="hooks.test"), BODY, HEADERS
        )
    assert result.failure is FailureKind.UNSAFE_TARGET
    assert receiver.arrivals == []


async def test_https_keeps_the_urls_host_for_sni_and_certificate(pki: TestPki) -> None:
    resolver = ScriptedResolver({"hooks.test": [["127.0.0.86"]]})
    context = pki.server_context("hooks.test")
    async with WebhookReceiver("127.0.0.86", ssl_context=context) as receiver:
        ok = await sender(
            allowing("127.0.0.86/32"), resolver=resolver, ssl_context=pki.client_context()
        ).send(receiver.url(host="hooks.test"), BODY, HEADERS)
        # The same server under its address: the certificate does not name it.
        bad = await sender(allowing("127.0.0.86/32"), ssl_context=pki.client_context()).send(
            receiver.url(), BODY, HEADERS
        )
    assert ok.is_success, ok
    assert receiver.arrivals[0].host == f"hooks.test:{receiver.port}"
    assert bad.failure is FailureKind.TLS
    assert len(receiver.arrivals) == 1


async def test_redirects_are_not_followed() -> None:
    async with WebhookReceiver("127.0.0.81") as target:
        answers = [Answer(307, headers={"Location": target.url("/elsewhere")})]
        async with WebhookReceiver("127.0.0.82", answers) as receiver:
            result = await sender(allowing("127.0.0.80/28")).send(receiver.url(), BODY, HEADERS)
    assert (result.status, result.failure) == (307, FailureKind.REDIRECT)
    assert result.error == f"redirect to {target.url('/elsewhere')} not followed"
    assert len(receiver.arrivals) == 1
    assert target.arrivals == []


async def test_only_a_bounded_snippet_of_the_response_is_kept() -> None:
    answers = [Answer(500, b"E" * (100 * 1024), {"Retry-After": "120"})]
    async with WebhookReceiver("127.0.0.83", answers) as receiver:
        result = await sender(allowing("127.0.0.83/32")).send(receiver.url(), BODY, HEADERS)
    assert (result.status, result.failure) == (500, FailureKind.HTTP_STATUS)
    assert result.snippet == "E" * MAX_SNIPPET_BYTES
    assert result.retry_after_s == 120.0


async def test_a_receiver_that_never_answers_times_out() -> None:
    async with WebhookReceiver("127.0.0.88", [Answer(hang=True)]) as receiver:
        result = await sender(allowing("127.0.0.88/32"), timeout_s=0.5).send(
            receiver.url(), BODY, HEADERS
        )
    assert result.failure is FailureKind.TIMEOUT
    assert result.status is None


async def test_nothing_listening_is_a_connect_failure() -> None:
    async with WebhookReceiver("127.0.0.89") as receiver:
        url = receiver.url()  # the port is free again once the receiver stops
    result = await sender(allowing("127.0.0.89/32")).send(url, BODY, HEADERS)
    assert result.failure is FailureKind.CONNECT


async def test_a_name_that_does_not_resolve_is_a_dns_failure() -> None:
    resolver = ScriptedResolver({"gone.test": [[]]})
    result = await sender(TargetGuard(), resolver=resolver).send(
        "https://gone.test/hook", BODY, HEADERS
    )
    assert result.failure is FailureKind.DNS


async def test_the_system_resolver_answers_without_the_network() -> None:
    assert await SystemResolver().addresses("127.0.0.85") == ["127.0.0.85"]
