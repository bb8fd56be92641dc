"""The whole path a customer takes: an API key, a sender domain, its records published in the
(real, knot) test DNS, verification, a send, delivery by a node's engine to a real receiver on
127.0.0.170:25, and the received message judged as a receiver would: DKIM (dkimpy), SPF for
the connecting address (pyspf through authheaders) and DMARC alignment (authheaders)."""

from __future__ import annotations

import stat
from pathlib import Path

import dkim
import pytest
from authheaders import check_dkim, check_dmarc, check_spf  # type: ignore[import-untyped]

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import DkimSettings, MtaStsSettings, Settings, SmtpTimeouts
from postillon.domains import parse_bounce_address
from postillon.domains.return_path import TAG_CHARS, TAG_SEPARATOR
from postillon.queue.status import RecipientStatus
from postillon.services.container import Services
from postillon.services.domain_views import DomainStatus
from tests.integration.domains.oracles import dkimpy_dnsfunc, dmarc_dnsfunc
from tests.integration.services.conftest import (
    HELO_NAME,
    SOURCE_ADDRESS,
    new_domain,
    services_settings,
)
from tests.integration.services.publish import publish
from tests.integration.services.sending_support import email_from
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.usefixtures("pyspf_on_test_dns", "test_is_a_public_suffix"),
]

MX_ADDRESS = "127.0.0.170"


def node_settings(tmp_path: Path, test_dns: TestDns) -> Settings:
    base = services_settings(tmp_path / "queue.db", test_dns)
    delivery = base.delivery.model_copy(
        update={
            "poll_interval_s": 0.05,
            "timeouts": SmtpTimeouts(connect_s=3, greeting_s=5, ehlo_s=5, mail_s=5, rcpt_s=5),
        }
    )
    return base.model_copy(
        update={
            "delivery": delivery,
            "mta_sts": MtaStsSettings(enabled=True, fetch_timeout_s=2.0),
            "dkim": DkimSettings(master_key_file=tmp_path / "keys" / "dkim-master.key"),
        }
    )


async def test_key_domain_verify_send_deliver_and_pass_dkim_spf_dmarc(
    tmp_path: Path, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    clock = FakeClock()
    receiver = await smtp_receiver(MX_ADDRESS)
    recipient_domain = new_domain(test_dns, "inbox")
    test_dns.add_zone(recipient_domain, f"@ MX 10 mx\nmx A {MX_ADDRESS}")
    settings = node_settings(tmp_path, test_dns)
    node = Node(settings, clock=clock)
    await node.migrate()
    services = Services.build(settings, node.store, None, clock)
    try:
        # The customer: a key, then a domain, its records published, verified.
        _, token = await services.keys.create("acme")
        account = await services.keys.authenticate(token)
        assert account is not None
        domain = new_domain(test_dns, "shop")
        added = await services.domains.add(account, domain)
        publish(test_dns, domain, added.records)
        assert (await services.domains.verify(account, domain)).status is DomainStatus.VERIFIED

        sent = await services.sending.send(
            account, email_from(domain, to=f"bob@{recipient_domain}", subject="Grüße")
        )
        await node.engine.run_until_idle()
        [received] = await receiver.wait_for(1)
        view = await services.sending.get(account, sent.id)
    finally:
        await services.close()
        await node.close()

    assert [r.status for r in view.recipients] == [RecipientStatus.DELIVERED]
    assert received.peer == SOURCE_ADDRESS
    tagged = parse_bounce_address(received.mail_from)
    assert tagged is not None
    assert tagged[0] == domain
    assert tagged[1].startswith(sent.id + TAG_SEPARATOR)
    assert len(tagged[1]) == len(sent.id) + 1 + TAG_CHARS
    assert dkim.verify(received.data, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver)) is True
    spf = check_spf(received.peer, received.mail_from, HELO_NAME)
    dkim_auth = check_dkim(received.data, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver))
    dmarc = check_dmarc(received.data, spf, dkim_auth, dnsfunc=dmarc_dnsfunc(test_dns.nameserver))
    assert (spf.result, dkim_auth.result) == ("pass", "pass")
    assert (dmarc.result, dmarc.header_from, dmarc.policy) == ("pass", domain, "none")
    key_file = settings.master_key_path
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
