"""Signed deliveries checked by the standardwebhooks library; rotation; retries; 410.

The receivers verify with ``standardwebhooks.Webhook`` (the spec's reference Python library).
Its ``verify`` compares ``webhook-timestamp`` with the real clock (5 minutes' tolerance), so the
tests that use it sign with the real clock; the retry test moves a FakeClock by days and checks
each attempt's signature with the library's ``sign`` for that attempt's own timestamp.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from postillon.clock import FakeClock, SystemClock
from postillon.config.settings import WebhookSettings
from postillon.webhooks.attempt import Endpoint, attempt_delivery
from postillon.webhooks.events import WebhookEvent
from postillon.webhooks.guard import TargetGuard
from postillon.webhooks.retry import EndpointHealth, RetryPolicy, Verdict
from postillon.webhooks.secret import SecretRing, WebhookSecret, generate_secret
from postillon.webhooks.sender import WebhookSender
from tests.integration.webhooks.receiver import Answer, Check, WebhookReceiver

pytestmark = pytest.mark.timeout(30)

GUARD = TargetGuard.from_settings(WebhookSettings(allow_private_networks=("127.0.0.80/29",)))
SEEDED = random.Random(6)


def library_check(secrets: list[WebhookSecret], accepted: list[list[bool]]) -> Check:
    """A receiver check verifying with one library verifier per secret, recording each verdict.

    Answers 401 unless some verifier accepted (then the scripted answer goes out).
    """
    verifiers = [Webhook(str(secret)) for secret in secrets]

    def check(body: bytes, headers: dict[str, str]) -> Answer | None:
        ok = False
        for verifier, record in zip(verifiers, accepted, strict=True):
            try:
                verifier.verify(body, headers)
            except WebhookVerificationError:
                record.append(False)
            else:
                record.append(True)
                ok = True
        return None if ok else Answer(401, b"bad signature")

    return check


async def test_a_standard_verifier_accepts_our_webhook(event: WebhookEvent) -> None:
    secret = generate_secret()
    accepted: list[list[bool]] = [[]]
    async with WebhookReceiver("127.0.0.80", check=library_check([secret], accepted)) as r:
        endpoint = Endpoint("ep_1", r.url(), SecretRing(secret))
        outcome = await attempt_delivery(
            WebhookSender(GUARD, clock=SystemClock()),
            endpoint,
            event,
            attempt=1,
            health=EndpointHealth(),
            policy=RetryPolicy(),
            clock=SystemClock(),
            random=SEEDED.random,
        )
    assert outcome.decision.verdict is Verdict.DELIVERED, outcome.result
    assert accepted == [[True]]
    (arrival,) = r.arrivals
    assert arrival.headers["webhook-id"] == event.id
    assert json.loads(arrival.body) == {
        "type": "email.delivered",
        "timestamp": "2026-03-01T12:00:00.000000Z",
        "data": {"message_id": "m_1", "recipient": "bob@example.org", "attempt": 1},
    }


async def test_a_wrong_secret_is_rejected_by_the_verifier(event: WebhookEvent) -> None:
    accepted: list[list[bool]] = [[]]
    check = library_check([generate_secret()], accepted)
    async with WebhookReceiver("127.0.0.80", check=check) as r:
        result = await WebhookSender(GUARD, clock=SystemClock()).send(
            r.url(), event.body(), {"webhook-id": event.id, "webhook-timestamp": "1"}
        )
    assert result.status == 401
    assert accepted == [[False]]


@pytest.mark.parametrize(
    ("rotated_ago", "old_accepted"),
    [
        pytest.param(timedelta(hours=1), True, id="in-overlap-both-verify"),
        pytest.param(timedelta(hours=25), False, id="after-overlap-only-new"),
    ],
)
async def test_rotation_overlap(
    event: WebhookEvent, rotated_ago: timedelta, old_accepted: bool
) -> None:
    old, new = generate_secret(), generate_secret()
    ring = SecretRing(old).rotate(new, datetime.now(UTC) - rotated_ago)
    accepted: list[list[bool]] = [[], []]
    async with WebhookReceiver("127.0.0.81", check=library_check([old, new], accepted)) as r:
        outcome = await attempt_delivery(
            WebhookSender(GUARD, clock=SystemClock()),
            Endpoint("ep_1", r.url(), ring),
            event,
            attempt=1,
            health=EndpointHealth(),
            policy=RetryPolicy(),
            clock=SystemClock(),
            random=SEEDED.random,
        )
    assert outcome.result.is_success
    assert accepted == [[old_accepted], [True]]
    signatures = r.arrivals[0].headers["webhook-signature"].split(" ")
    assert len(signatures) == (2 if old_accepted else 1)


async def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(
    event: WebhookEvent,
) -> None:
    clock = FakeClock(datetime.now(UTC))
    start = clock.now()
    secret = generate_secret()
    answers = [
        Answer(503),
        Answer(429, headers={"Retry-After": "3600"}),
        Answer(500, b"database down"),
        Answer(200),
    ]
    policy = RetryPolicy()
    health = EndpointHealth()
    verdicts: list[Verdict] = []
    async with WebhookReceiver("127.0.0.82", answers) as r:
        endpoint = Endpoint("ep_1", r.url(), SecretRing(secret))
        sender = WebhookSender(GUARD, clock=clock)
        for attempt in range(1, policy.max_attempts + 1):
            outcome = await attempt_delivery(
                sender,
                endpoint,
                event,
                attempt=attempt,
                health=health,
                policy=policy,
                clock=clock,
                random=lambda: 0.0,
            )
            verdicts.append(outcome.decision.verdict)
            health = outcome.decision.health
            if outcome.decision.next_attempt_at is None:
                break
            clock.advance(outcome.decision.next_attempt_at - clock.now())
    assert verdicts == [Verdict.RETRY, Verdict.RETRY, Verdict.RETRY, Verdict.DELIVERED]
    assert health == EndpointHealth()
    # 5 s, then the receiver's Retry-After (1 h) over the table's 5 min, then 30 min.
    assert clock.now() - start == timedelta(seconds=5) + timedelta(hours=1) + timedelta(minutes=30)
    stamps = [int(a.headers["webhook-timestamp"]) for a in r.arrivals]
    assert stamps == [
        int(start.timestamp()) + offset for offset in (0, 5, 5 + 3600, 5 + 3600 + 1800)
    ]
    library = Webhook(str(secret))
    for arrival in r.arrivals:
        assert arrival.headers["webhook-id"] == event.id  # the idempotency key never changes
        moment = datetime.fromtimestamp(int(arrival.headers["webhook-timestamp"]), UTC)
        expected = library.sign(event.id, moment, arrival.body.decode())
        assert arrival.headers["webhook-signature"] == expected


async def test_410_gone_disables_the_endpoint_at_once(event: WebhookEvent) -> None:
    async with WebhookReceiver("127.0.0.83", [Answer(410, b"no longer wanted")]) as r:
        outcome = await attempt_delivery(
            WebhookSender(GUARD, clock=SystemClock()),
            Endpoint("ep_1", r.url(), SecretRing(generate_secret())),
            event,
            attempt=1,
            health=EndpointHealth(),
            policy=RetryPolicy(),
            clock=SystemClock(),
            random=SEEDED.random,
        )
    assert outcome.decision.verdict is Verdict.DISABLE_ENDPOINT
    assert "410" in outcome.decision.reason
    assert outcome.result.snippet == "no longer wanted"
    assert len(r.arrivals) == 1
