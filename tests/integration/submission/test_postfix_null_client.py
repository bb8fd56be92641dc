"""A real Postfix as a null client, wired the way a customer relays a whole host through us:
``relayhost = [smtp]:587``, TLS required, SASL with the API key as the password. Mail handed
to that Postfix reaches our store and then an aiosmtpd MX with its DKIM signature verifying."""

from __future__ import annotations

import asyncio
import smtplib

import dkim
import pytest

from tests.integration.domains.oracles import dkimpy_dnsfunc
from tests.integration.submission.conftest import (
    HOST,
    MX_ADDRESS,
    POSTFIX_ADDRESS,
    STARTTLS_PORT,
    SubmissionWorld,
)
from tests.support.dns_server import TestDns
from tests.support.fixtures import PostfixFactory, ReceiverFactory

pytestmark = [pytest.mark.timeout(90)]

# How long Postfix may take to pick the message up and relay it (its queue runs at once).
RELAY_POLLS = 300
RELAY_POLL_S = 0.1


async def _stored(world: SubmissionWorld, count: int) -> list[str]:
    for _ in range(RELAY_POLLS):
        if len(ids := await world.messages()) >= count:
            return ids
        await asyncio.sleep(RELAY_POLL_S)
    raise AssertionError(f"Postfix relayed nothing in {RELAY_POLLS * RELAY_POLL_S:g}s")


async def test_postfix_relays_through_587_with_sasl(
    world: SubmissionWorld,
    postfix_smtpd: PostfixFactory,
    smtp_receiver: ReceiverFactory,
    test_dns: TestDns,
) -> None:
    receiver = await smtp_receiver(MX_ADDRESS)
    postfix = await asyncio.to_thread(
        postfix_smtpd,
        POSTFIX_ADDRESS,
        relay_to=(HOST, STARTTLS_PORT),
        main_cf={
            "smtp_sasl_auth_enable": "yes",
            "smtp_sasl_password_maps": f"static:relay-host:{world.acme_key}",
            "smtp_sasl_security_options": "noanonymous",
            "smtp_sasl_tls_security_options": "noanonymous",
            "smtp_tls_security_level": "encrypt",
            "smtp_tls_CAfile": str(world.pki.ca_pem_path),
            "smtp_tls_loglevel": "1",
        },
    )
    message = (
        f"From: Cron <cron@{world.acme_domain}>\r\nTo: ops@{world.recipient_domain}\r\n"
        "Subject: nightly report\r\n\r\nall good\r\n"
    ).encode()

    def hand_to_postfix() -> None:
        with smtplib.SMTP(POSTFIX_ADDRESS, 25, timeout=10) as client:
            client.sendmail(f"cron@{world.acme_domain}", [f"ops@{world.recipient_domain}"], message)

    await asyncio.to_thread(hand_to_postfix)
    [message_id] = await _stored(world, 1)
    view = await world.node.services.sending.get(world.acme, message_id)
    assert (view.source, view.subject) == ("smtp", "nightly report")
    log = postfix.maillog()
    assert "status=sent" in log
    assert "TLS connection established" in log

    await world.node.engine.run_until_idle()
    [received] = await receiver.wait_for(1)
    assert b"all good" in received.data
    assert dkim.verify(received.data, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver)) is True
