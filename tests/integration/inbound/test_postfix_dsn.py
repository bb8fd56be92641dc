"""A genuine Postfix DSN: our engine delivers to a real Postfix (the recipient's MX), which
relays to a host that refuses the user (our own inbound listener: 550 5.1.1 for anything not a
return path), so Postfix bounces; its DSN goes back, by Postfix itself, to the return path on
our listener, and the recipient that was DELIVERED to Postfix becomes BOUNCED.

Addresses: 127.0.15.2 our inbound listener, 127.0.15.6 Postfix (issue 15's range).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from postillon.storage.reports_sql import StoredReport
from tests.integration.inbound.test_listener import INBOUND, node_settings
from tests.integration.services.conftest import new_domain
from tests.integration.services.publish import publish
from tests.integration.services.sending_support import email_from
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import PostfixFactory

pytestmark = [pytest.mark.timeout(90), pytest.mark.postfix]

POSTFIX = "127.0.15.6"
# Postfix bounces at once on a 5xx from its relay; its bounce daemon then sends the DSN.
DSN_TIMEOUT_S = 40.0


async def test_postfix_dsn_for_an_unknown_user_bounces_late(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, postfix_smtpd: PostfixFactory
) -> None:
    postfix = postfix_smtpd(POSTFIX, relay_to=(INBOUND, 25), myhostname="mx.rpgate.test")
    inbox = new_domain(test_dns, "rpgate")
    test_dns.add_zone(inbox, f"@ MX 10 mx\nmx A {POSTFIX}")
    node = Node(node_settings(tmp_path, test_dns, pki), clock=FakeClock())
    await node.migrate()
    assert node.inbound is not None
    await node.inbound.start()
    try:
        _, token = await node.services.keys.create("acme")
        account = await node.services.keys.authenticate(token)
        assert account is not None
        domain = new_domain(test_dns, "rpsender")
        publish(test_dns, domain, (await node.services.domains.add(account, domain)).records)
        await node.services.domains.verify(account, domain)
        sent = await node.services.sending.send(account, email_from(domain, to=f"nobody@{inbox}"))
        await node.engine.run_until_idle()
        view = await node.store.get_message(sent.id)
        assert view is not None
        assert [r.status for r in view.recipients] == [RecipientStatus.DELIVERED]

        reports: list[StoredReport] = []
        async with asyncio.timeout(DSN_TIMEOUT_S):
            while not reports:
                await asyncio.sleep(0.2)
                reports = await node.services.return_path.reports(account.id)
        view = await node.store.get_message(sent.id)
    finally:
        await node.inbound.close()
        await node.close()

    [report] = reports
    assert (report.kind, report.shape, report.matched, report.mail_from) == (
        "bounce",
        "rfc3464",
        1,
        "",
    )
    assert report.summary["reporting_mta"] == "mx.rpgate.test"
    [line] = report.summary["recipients"]
    assert (line["address"], line["action"], line["status"]) == (
        f"nobody@{inbox}",
        "failed",
        "5.1.1",
    )
    assert "no such user here" in line["diagnostic"]
    assert view is not None
    [recipient] = view.recipients
    assert (recipient.status, recipient.bounce_class) == (RecipientStatus.BOUNCED, "bad_mailbox")
    assert "status=bounced" in postfix.maillog()
