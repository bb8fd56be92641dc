"""The MX walk at run time: fallback, spread, implicit MX, and routes that end before SMTP.

Real Knot zones, real receivers on 127.0.0.100-105 (127.0.0.132 is one of our own source
addresses); every fact is also passed through ``verdicts.decide`` to check what the store
would record.
"""

from __future__ import annotations

import pytest

from postillon.delivery.job import FactKind
from postillon.queue.bounce import BounceClass
from postillon.queue.status import RecipientStatus
from tests.integration.delivery.conftest import DeliveryFactory, HostileFactory, job, zone
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory
from tests.support.hostile import HostilePeer, Script

pytestmark = pytest.mark.timeout(30)

BAD_BEST_MX = "127.0.0.100"  # nothing listens, or a scripted peer refuses the session
FALLBACK_MX = "127.0.0.101"
SPREAD_A = "127.0.0.102"
SPREAD_B = "127.0.0.103"
IMPLICIT_MX = "127.0.0.104"
NULL_MX_HOST = "127.0.0.105"  # the domain's own A record, which a null MX forbids using
OUR_SOURCE = "127.0.0.132"  # a source address of ours, published as an MX
SPREAD_JOBS = 20


async def refuse_greeting_554(peer: HostilePeer) -> None:
    await peer.send(b"554 5.7.1 no service for you\r\n")
    await peer.read_command()  # QUIT, or the client hanging up


async def refuse_greeting_421(peer: HostilePeer) -> None:
    await peer.send(b"421 4.3.2 too busy, closing\r\n")


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(None, id="connection-refused"),
        pytest.param(refuse_greeting_554, id="554-greeting"),
        pytest.param(refuse_greeting_421, id="421-greeting"),
    ],
)
async def test_best_mx_failing_falls_back_to_the_next(
    *,
    test_dns: TestDns,
    smtp_receiver: ReceiverFactory,
    make_delivery: DeliveryFactory,
    hostile: HostileFactory,
    script: Script | None,
) -> None:
    domain = zone(
        test_dns,
        "fallback",
        f"""
        @    MX 10 mx1
        @    MX 20 mx2
        mx1  A  {BAD_BEST_MX}
        mx2  A  {FALLBACK_MX}
        """,
    )
    refuser = await hostile(BAD_BEST_MX, script) if script is not None else None
    receiver = await smtp_receiver(FALLBACK_MX)
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"alice@{domain}"))

    assert fact.is_delivered
    assert (fact.hop.mx_host, fact.hop.ip) == (f"mx2.{domain}", FALLBACK_MX)
    [message] = receiver.messages
    assert message.rcpt_tos == (f"alice@{domain}",)
    assert delivery.decide(fact).status is RecipientStatus.DELIVERED
    if refuser is not None:
        assert refuser.connections == 1
        assert refuser.errors == []


async def test_equal_preferences_spread_over_both_hosts(
    test_dns: TestDns, smtp_receiver: ReceiverFactory, make_delivery: DeliveryFactory
) -> None:
    domain = zone(
        test_dns,
        "spread",
        f"""
        @  MX 10 a
        @  MX 10 b
        a  A  {SPREAD_A}
        b  A  {SPREAD_B}
        """,
    )
    first = await smtp_receiver(SPREAD_A)
    second = await smtp_receiver(SPREAD_B)
    delivery = await make_delivery(seed=7)  # one Random shared by all 20 routings

    for n in range(SPREAD_JOBS):
        facts = await delivery.run(job(domain, f"u{n}@{domain}", message_id=f"m{n}"))
        assert [fact.is_delivered for fact in facts] == [True]

    assert len(first.messages) + len(second.messages) == SPREAD_JOBS
    assert first.messages
    assert second.messages
    # Each host is dialled once; later jobs reuse its pooled connection.
    assert (first.connections, second.connections) == (1, 1)


async def test_domain_without_mx_is_its_own_host(
    test_dns: TestDns, smtp_receiver: ReceiverFactory, make_delivery: DeliveryFactory
) -> None:
    domain = zone(test_dns, "implicit", f"@ A {IMPLICIT_MX}")
    receiver = await smtp_receiver(IMPLICIT_MX)
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"bob@{domain}"))

    assert fact.is_delivered
    assert (fact.hop.mx_host, fact.hop.ip) == (domain, IMPLICIT_MX)
    assert [m.rcpt_tos for m in receiver.messages] == [(f"bob@{domain}",)]


async def test_null_mx_bounces_without_connecting(
    test_dns: TestDns, smtp_receiver: ReceiverFactory, make_delivery: DeliveryFactory
) -> None:
    domain = zone(
        test_dns,
        "nullmx",
        f"""
        @  MX 0 .
        @  A  {NULL_MX_HOST}
        """,
    )
    receiver = await smtp_receiver(NULL_MX_HOST)
    delivery = await make_delivery()

    facts = await delivery.run(job(domain, f"a@{domain}", f"b@{domain}"))

    assert [(f.kind, f.code, f.enhanced) for f in facts] == [(FactKind.DNS, 556, "5.1.10")] * 2
    assert receiver.connections == 0
    assert delivery.pool.stats.opened == 0
    outcome = delivery.decide(facts[0])
    assert outcome.status is RecipientStatus.BOUNCED
    assert outcome.bounce_class is BounceClass.BAD_DOMAIN
    assert outcome.next_attempt_at is None


@pytest.mark.parametrize(
    ("servfail", "status", "bounce_class", "enhanced"),
    [
        pytest.param(
            False, RecipientStatus.BOUNCED, BounceClass.BAD_DOMAIN, "5.1.2", id="nxdomain"
        ),
        pytest.param(True, RecipientStatus.DEFERRED, BounceClass.OTHER, "4.4.3", id="servfail"),
    ],
)
async def test_dns_failures(
    *,
    test_dns: TestDns,
    make_delivery: DeliveryFactory,
    servfail: bool,
    status: RecipientStatus,
    bounce_class: BounceClass,
    enhanced: str,
) -> None:
    if servfail:
        domain = test_dns.new_origin("servfail")
        test_dns.add_servfail_zone(domain)
    else:
        parent = zone(test_dns, "nx", f"www A {BAD_BEST_MX}")  # never dialled
        domain = f"no-such-name.{parent}"
    delivery = await make_delivery()

    [fact] = await delivery.run(job(domain, f"x@{domain}"))

    assert (fact.kind, fact.enhanced, fact.is_transient) == (FactKind.DNS, enhanced, servfail)
    outcome = delivery.decide(fact)
    assert outcome.status is status
    assert outcome.bounce_class is bounce_class
    assert (outcome.next_attempt_at is not None) is servfail
    assert outcome.suppress is not servfail
    assert delivery.pool.stats.opened == 0


async def test_mx_that_is_ourselves_bounces_as_a_loop_without_connecting(
    test_dns: TestDns, make_delivery: DeliveryFactory
) -> None:
    domain = zone(test_dns, "loop", f"@ MX 10 mx\nmx A {OUR_SOURCE}")
    delivery = await make_delivery(source_addresses=(OUR_SOURCE,))

    [fact] = await delivery.run(job(domain, f"a@{domain}"))

    assert (fact.kind, fact.code, fact.enhanced) == (FactKind.DNS, 554, "5.4.6")
    assert delivery.pool.stats.opened == 0
    assert delivery.decide(fact).status is RecipientStatus.BOUNCED
