"""A tenant points its recipient domain's MX at an internal address: nothing connects there.

With the default settings (no ``[delivery] allow_private_destinations``) the recipient bounces
at once with a permanent, explained failure, and the SMTP server listening on that internal
address (127.0.17.3:25, this test's own) never sees a connection.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.queue.status import RecipientStatus
from tests.integration.engine.conftest import engine_settings, new_message
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = pytest.mark.timeout(60)

INTERNAL_MX = "127.0.17.3"


async def test_an_mx_on_an_internal_address_is_refused_and_never_dialled(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> None:
    receiver = await smtp_receiver(INTERNAL_MX)
    origin = test_dns.new_origin("internal")
    test_dns.add_zone(origin, f"@ MX 10 mx\nmx A {INTERNAL_MX}")
    domain = origin.rstrip(".")
    base = engine_settings(tmp_path / "queue.db", test_dns, pki)
    settings = base.model_copy(
        update={"delivery": base.delivery.model_copy(update={"allow_private_destinations": ()})}
    )
    node = Node(settings, clock=FakeClock())
    try:
        await node.migrate()
        account = await node.store.ensure_account("tenant")
        queued = await node.store.enqueue(new_message(account.id, [f"probe@{domain}"]))
        await node.engine.run_until_idle()
        view = await node.store.get_message(queued.message_id)
    finally:
        await node.close()
    assert view is not None
    [rcpt] = view.recipients
    assert rcpt.status is RecipientStatus.BOUNCED
    assert rcpt.last_reply_text is not None
    assert "5.4.4" in rcpt.last_reply_text
    assert f"mx.{domain} {INTERNAL_MX}: loopback" in rcpt.last_reply_text
    assert receiver.messages == []
    assert receiver.connections == 0
