"""The customer's path over HTTP on a real node: a key from the CLI, POST /v1/domains, the
records published in the (real, knot) test DNS, POST verify, POST /v1/emails, delivery by the
node's engine to a real receiver on 127.0.0.172:25 over STARTTLS, GET /v1/emails/{id} showing
the attempt with its TLS details, and the received message passing DKIM, SPF and DMARC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dkim
import httpx
import pytest
from authheaders import check_dkim, check_dmarc, check_spf  # type: ignore[import-untyped]
from click.testing import CliRunner

from postillon.app import Node
from postillon.cli import cli
from postillon.clock import FakeClock
from tests.integration.domains.oracles import dkimpy_dnsfunc, dmarc_dnsfunc
from tests.integration.services.conftest import HELO_NAME, new_domain
from tests.integration.services.test_end_to_end import node_settings
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.usefixtures("pyspf_on_test_dns", "test_is_a_public_suffix"),
]

MX_ADDRESS = "127.0.0.172"


def zone_from_json(records: list[dict[str, object]]) -> str:
    """Master-file lines for the records the API told us to publish."""
    lines = []
    for record in records:
        if record["type"] == "TXT":
            strings = record["value_strings"]
            assert isinstance(strings, list)
            lines.append(f"{record['name']}. TXT " + " ".join(f'"{s}"' for s in strings))
        else:
            preference, host = str(record["value"]).split()
            lines.append(f"{record['name']}. MX {preference} {host}.")
    return "\n".join(lines)


async def test_http_key_domain_verify_send_and_the_inbox_passes_dmarc(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> None:
    receiver = await smtp_receiver(
        MX_ADDRESS, tls_context=pki.server_context("mx.inbox.test"), hostname="mx.inbox.test"
    )
    inbox = new_domain(test_dns, "inbox")
    test_dns.add_zone(inbox, f"@ MX 10 mx\nmx A {MX_ADDRESS}")
    settings = node_settings(tmp_path, test_dns)
    env = {
        "POSTILLON_STORAGE__URL": settings.storage.url,
        "POSTILLON_DKIM__MASTER_KEY_FILE": str(settings.dkim.master_key_file),
    }
    node = Node(settings, clock=FakeClock())
    await node.migrate()  # the CLI refuses a database that does not exist yet
    created = await asyncio.to_thread(
        CliRunner().invoke, cli, ["keys", "create", "--account", "acme"], env=env
    )
    assert created.exit_code == 0, created.output
    token = next(w for w in created.output.split() if w.startswith("pst_"))
    transport = httpx.ASGITransport(app=node.api_app)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.test", headers=headers
        ) as api:
            shop = new_domain(test_dns, "shop")
            added = await api.post("/v1/domains", json={"name": shop})
            assert added.status_code == 201, added.text
            test_dns.add_zone(shop, zone_from_json(added.json()["records"]))
            verified = await api.post(f"/v1/domains/{shop}/verify")
            assert verified.json()["status"] == "verified", verified.text

            sent = await api.post(
                "/v1/emails",
                json={
                    "from": {"email": f"alice@{shop}", "name": "Alice"},
                    "to": f"bob@{inbox}",
                    "subject": "Order 42",
                    "text": "Your order shipped.",
                    "tags": ["orders"],
                },
            )
            assert sent.status_code == 202, sent.text
            email_id = sent.json()["id"]
            await node.engine.run_until_idle()
            [received] = await receiver.wait_for(1)
            shown = await api.get(f"/v1/emails/{email_id}")
    finally:
        await node.close()

    assert shown.status_code == 200, shown.text
    [rcpt] = shown.json()["recipients"]
    assert rcpt["status"] == "delivered"
    [attempt] = rcpt["attempts"]
    assert attempt["mx_host"] == f"mx.{inbox}"
    assert attempt["tls"]["used"] is True
    assert attempt["tls"]["version"] == received.tls_version
    assert received.tls_version is not None
    nameserver = test_dns.nameserver
    assert dkim.verify(received.data, dnsfunc=dkimpy_dnsfunc(nameserver)) is True
    spf = check_spf(received.peer, received.mail_from, HELO_NAME)
    dkim_auth = check_dkim(received.data, dnsfunc=dkimpy_dnsfunc(nameserver))
    dmarc = check_dmarc(received.data, spf, dkim_auth, dnsfunc=dmarc_dnsfunc(nameserver))
    assert (spf.result, dkim_auth.result, dmarc.result) == ("pass", "pass", "pass")
