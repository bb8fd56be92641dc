"""What one session carries: partial refusals, 452 splits, deferrals, pooled reuse.

Real receivers on 127.0.0.106-110 (aiosmtpd) and 127.0.0.139 (Postfix smtpd), our source
addresses 127.0.0.130-131; the facts are checked against what the receiver got and against
what the store would record.
"""

from __future__ import annotations

import re

import pytest

from postillon.delivery.job import FactKind
from postillon.queue.bounce import BounceClass
from postillon.queue.status import RecipientStatus
from tests.integration.delivery.conftest import (
    DeliveryFactory,
    addresses,
    by_address,
    job,
    zone,
)
from tests.support.dns_server import TestDns
from tests.support.fixtures import PostfixFactory, ReceiverFactory

pytestmark = pytest.mark.timeout(30)

PARTIAL_MX = "127.0.0.106"
DEFERRING_MX = "127.0.0.107"
REUSE_MX = "127.0.0.110"
SOURCES = ("127.0.0.130", "127.0.0.131")  # bound as our source addresses
POSTFIX_MX = "127.0.0.139"  # a session-long Postfix: only this module uses the address

# Postfix: 50 recipients per transaction, three users unknown (RFC 5321 §4.5.3.1.10).
POSTFIX_RCPT_LIMIT = 50
MANY_RECIPIENTS = 150
REJECTED_INDEXES = (5, 60, 120)  # one in each of the three transactions the split makes
UNKNOWN_USER_REPLY = "550 5.1.1 User unknown"


def single_mx(test_dns: TestDns, label: str, ip: str) -> str:
    return zone(test_dns, label, f"@ MX 10 mx\nmx A {ip}")


async def test_refused_recipients_bounce_and_the_rest_are_delivered_once(
    test_dns: TestDns, smtp_receiver: ReceiverFactory, make_delivery: DeliveryFactory
) -> None:
    domain = single_mx(test_dns, "partial", PARTIAL_MX)
    everyone = addresses(domain, 5)
    unknown = {everyone[1], everyone[3]}
    receiver = await smtp_receiver(
        PARTIAL_MX,
        rcpt_handler=lambda rcpt: "550 5.1.1 no such user" if rcpt in unknown else None,
    )
    delivery = await make_delivery()

    facts = by_address(await delivery.run(job(domain, *everyone)))

    [message] = receiver.messages
    assert set(message.rcpt_tos) == set(everyone) - unknown
    for address, fact in facts.items():
        outcome = delivery.decide(fact)
        if address in unknown:
            assert (fact.code, fact.enhanced) == (550, "5.1.1")
            assert outcome.status is RecipientStatus.BOUNCED
            assert outcome.bounce_class is BounceClass.BAD_MAILBOX
            assert outcome.suppress
        else:
            assert fact.is_delivered
            assert outcome.status is RecipientStatus.DELIVERED
            assert not outcome.suppress


@pytest.mark.postfix
async def test_many_recipients_split_on_452_over_one_connection(
    test_dns: TestDns, postfix_smtpd: PostfixFactory, make_delivery: DeliveryFactory
) -> None:
    domain = single_mx(test_dns, "many", POSTFIX_MX)
    everyone = addresses(domain, MANY_RECIPIENTS)
    rejected = {everyone[i] for i in REJECTED_INDEXES}
    access = ", ".join(f"{{{address} = {UNKNOWN_USER_REPLY}}}" for address in sorted(rejected))
    postfix = postfix_smtpd(
        POSTFIX_MX,
        main_cf={
            "smtpd_recipient_limit": str(POSTFIX_RCPT_LIMIT),
            "smtpd_recipient_restrictions": (
                f"check_recipient_access inline:{{{access}}}, permit_mynetworks, reject"
            ),
        },
    )
    log_before = postfix.maillog()
    delivered_before = postfix.delivered_count()
    delivery = await make_delivery(max_rcpts=100)

    facts = by_address(await delivery.run(job(domain, *everyone)))

    outcomes = {address: delivery.decide(fact) for address, fact in facts.items()}
    statuses = [outcome.status for outcome in outcomes.values()]
    assert statuses.count(RecipientStatus.DELIVERED) == MANY_RECIPIENTS - len(rejected)
    assert statuses.count(RecipientStatus.DEFERRED) == 0
    assert {a for a, o in outcomes.items() if o.status is RecipientStatus.BOUNCED} == rejected
    assert all(outcomes[a].suppress for a in rejected)
    assert {facts[a].enhanced for a in rejected} == {"5.1.1"}
    await postfix.wait_delivered(delivered_before + MANY_RECIPIENTS - len(rejected))
    log = postfix.maillog()[len(log_before) :]
    # One session, three transactions of at most 50 recipients each.
    assert len(re.findall(r"\]: connect from ", log)) == 1
    assert sorted(int(n) for n in re.findall(r"nrcpt=(\d+)", log)) == [47, 50, 50]
    assert delivery.pool.stats.opened == 1


@pytest.mark.parametrize(
    ("refusal", "bounce_class"),
    [
        pytest.param("451 4.3.0 temporary local problem", BounceClass.OTHER, id="4xx"),
        pytest.param("550 5.7.1 rate limit exceeded", BounceClass.RATE_LIMIT, id="5xx-rate-limit"),
        pytest.param("452 4.5.3 too many recipients", BounceClass.RATE_LIMIT, id="452-no-one"),
    ],
)
async def test_try_later_replies_defer(
    test_dns: TestDns,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    refusal: str,
    bounce_class: BounceClass,
) -> None:
    domain = single_mx(test_dns, "later", DEFERRING_MX)
    receiver = await smtp_receiver(DEFERRING_MX, rcpt_handler=lambda rcpt: refusal)
    delivery = await make_delivery()

    facts = await delivery.run(job(domain, f"a@{domain}", f"b@{domain}"))

    assert receiver.messages == []
    for fact in facts:
        assert (fact.kind, fact.code) == (FactKind.REPLY, int(refusal[:3]))
        outcome = delivery.decide(fact)
        assert outcome.status is RecipientStatus.DEFERRED
        assert outcome.bounce_class is bounce_class
        assert outcome.next_attempt_at is not None
        assert outcome.next_attempt_at > delivery.clock.now()
        assert not outcome.suppress


async def test_deferral_past_the_queue_lifetime_expires(
    test_dns: TestDns, smtp_receiver: ReceiverFactory, make_delivery: DeliveryFactory
) -> None:
    domain = single_mx(test_dns, "expire", DEFERRING_MX)
    await smtp_receiver(DEFERRING_MX, rcpt_handler=lambda rcpt: "451 4.3.0 try later")
    delivery = await make_delivery()
    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    lifetime = delivery.settings.retry.max_lifetime_s
    created = delivery.clock.now()
    delivery.clock.advance(lifetime + 1)
    outcome = delivery.decide(fact, created_at=created, previous_attempts=30)

    assert outcome.status is RecipientStatus.EXPIRED
    assert outcome.next_attempt_at is None


async def test_second_job_reuses_the_pooled_connection(
    test_dns: TestDns, smtp_receiver: ReceiverFactory, make_delivery: DeliveryFactory
) -> None:
    domain = single_mx(test_dns, "reuse", REUSE_MX)
    receiver = await smtp_receiver(REUSE_MX)
    delivery = await make_delivery()

    first = await delivery.run(job(domain, f"a@{domain}", message_id="m1"))
    second = await delivery.run(job(domain, f"b@{domain}", message_id="m2"))

    assert [f.is_delivered for f in first + second] == [True, True]
    assert [m.rcpt_tos for m in receiver.messages] == [(f"a@{domain}",), (f"b@{domain}",)]
    assert receiver.connections == 1
    assert (delivery.pool.stats.opened, delivery.pool.stats.reused) == (1, 1)


async def test_source_addresses_alternate_and_each_has_its_own_connection(
    test_dns: TestDns, smtp_receiver: ReceiverFactory, make_delivery: DeliveryFactory
) -> None:
    domain = single_mx(test_dns, "sources", REUSE_MX)
    receiver = await smtp_receiver(REUSE_MX)
    delivery = await make_delivery(source_addresses=SOURCES)

    for n in range(4):
        facts = await delivery.run(job(domain, f"u{n}@{domain}", message_id=f"m{n}"))
        assert [fact.is_delivered for fact in facts] == [True]

    assert [m.peer for m in receiver.messages] == [*SOURCES, *SOURCES]
    # The pool is keyed by source address too: one connection per source, each reused once.
    assert receiver.connections == len(SOURCES)
    assert (delivery.pool.stats.opened, delivery.pool.stats.reused) == (2, 2)
