"""The engine end to end with DANE: a node with ``[dns] dnssec = true`` on the validating
resolver delivers a job over DANE, records the policy in the attempt rows, and (``[tlsrpt]``
enabled) counts the job's session once for TLS reporting (not once per recipient), in the
store."""

from __future__ import annotations

from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import DnsSettings, TlsRptSettings
from postillon.queue.status import RecipientStatus
from postillon.storage.tlsrpt_sql import SqlTlsRpt
from tests.integration.dane.conftest import leaf_certificate, spki_sha256
from tests.integration.engine.conftest import engine_settings, new_message
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.dnssec_dns import SignedDns
from tests.support.receivers import Receiver

pytestmark = pytest.mark.timeout(60)


async def test_the_engine_delivers_over_dane_and_counts_the_session_once(
    tmp_path: Path, test_dns: TestDns, signed_dns: SignedDns, pki: TestPki
) -> None:
    domain, mx, ip = "engine.d18", "mx.engine.d18", "127.0.18.40"
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(mx)))
    signed_dns.add(".", f"{domain}. MX 10 {mx}.\n{mx}. A {ip}\n_25._tcp.{mx}. TLSA {tlsa}")
    base = engine_settings(tmp_path / "queue.db", test_dns, pki)
    dns = DnsSettings(nameservers=(signed_dns.nameserver,), timeout_s=3.0, dnssec=True)
    tlsrpt = TlsRptSettings(
        enabled=True,
        organization_name="Postillon Tests",
        contact_info="mailto:postmaster@postillon.test",
        from_domain="postillon.test",
        account="acme",
    )
    clock = FakeClock()
    node = Node(base.model_copy(update={"dns": dns, "tlsrpt": tlsrpt}), clock=clock)
    try:
        await node.migrate()
        account = await node.store.ensure_account("acme")
        rcpts = [f"user{i}@{domain}" for i in range(3)]
        async with Receiver(ip, tls_context=pki.server_context(mx)) as rx:
            queued = await node.store.enqueue(new_message(account.id, rcpts))
            await node.engine.run_until_idle()
            assert len(rx.messages) == 1
        view = await node.store.get_message(queued.message_id)
        assert view is not None
        assert {r.status for r in view.recipients} == {RecipientStatus.DELIVERED}
        records = [r.attempt_log[0].record for r in view.recipients]
        assert {(a.tls_policy, a.dane_tlsa) for a in records} == {("dane", "3 1 1")}
        (count,) = await SqlTlsRpt(node.store.engines).counts(clock.now().date().isoformat())
        assert (count.session.policy_type, count.session.result_type) == ("tlsa", "")
        assert (count.session.policy_domain, count.session.mx_host) == (domain, mx)
        assert count.sessions == 1  # one session carried the three recipients
    finally:
        await node.close()
