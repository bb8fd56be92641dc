"""The return path end to end: our engine delivers to a real MX (aiosmtpd), the report comes
back by smtplib over STARTTLS to our inbound listener, the recipient bounces late, the address
is suppressed and a real webhook receiver gets ``email.bounced`` with ``async: true``. Then
what a public port 25 must refuse: forged and altered return paths, relaying, floods, 10 MB.

Addresses (issue 15's range): 127.0.15.1 the node's source address, 127.0.15.2 the inbound
listener, 127.0.15.3 the recipient's MX, 127.0.15.4 the webhook receiver, 127.0.15.5 the
reporting client.
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from email.parser import Parser
from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import (
    DkimSettings,
    InboundSettings,
    MtaStsSettings,
    Settings,
    SmtpTimeouts,
    WebhookSettings,
)
from postillon.queue.status import RecipientStatus
from postillon.storage import Account
from tests.integration.services.conftest import new_domain, services_settings
from tests.integration.services.publish import publish
from tests.integration.services.sending_support import email_from
from tests.integration.webhooks.receiver import WebhookReceiver
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory
from tests.support.receivers import ReceivedMessage, Receiver
from tests.unit.reports import shapes

pytestmark = pytest.mark.timeout(60)

SOURCE = "127.0.15.1"
INBOUND = "127.0.15.2"
MX = "127.0.15.3"
HOOKS = "127.0.15.4"
REPORTER = "127.0.15.5"  # the client that sends reports back
HELO = "mta.postillon.test"
# smtplib's own timeout, so a hung listener fails the test instead of stalling it.
CLIENT_TIMEOUT_S = 10


@dataclass
class Sent:
    node: Node
    account: Account
    message_id: str
    received: ReceivedMessage
    recipient: str
    receiver: Receiver
    domain: str


def node_settings(tmp_path: Path, test_dns: TestDns, pki: TestPki) -> Settings:
    base = services_settings(tmp_path / "queue.db", test_dns)
    cert = pki.cert_files(HELO)
    return base.model_copy(
        update={
            "delivery": base.delivery.model_copy(
                update={
                    "helo_name": HELO,
                    "source_addresses": (SOURCE,),
                    "poll_interval_s": 0.05,
                    "timeouts": SmtpTimeouts(connect_s=3, greeting_s=5, ehlo_s=5, rcpt_s=5),
                }
            ),
            "mta_sts": MtaStsSettings(enabled=False),
            "dkim": DkimSettings(master_key_file=tmp_path / "keys" / "dkim-master.key"),
            "webhooks": WebhookSettings(allow_private_networks=("127.0.15.0/24",)),
            "api": base.api.model_copy(update={"public_url": "https://mail.postillon.test"}),
            "inbound": InboundSettings(
                listen=(f"{INBOUND}:25",),
                cert_file=cert.cert_path,
                key_file=cert.key_path,
                max_reports_per_connection=3,
            ),
        }
    )


@pytest.fixture
async def sent(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> AsyncIterator[Sent]:
    """A node whose engine delivered one message to bob@<inbox> (MX 127.0.15.3), with its
    inbound listener on 127.0.15.2:25."""
    receiver = await smtp_receiver(MX)
    inbox = new_domain(test_dns, "rpinbox")
    test_dns.add_zone(inbox, f"@ MX 10 mx\nmx A {MX}")
    node = Node(node_settings(tmp_path, test_dns, pki), clock=FakeClock())
    await node.migrate()
    assert node.inbound is not None
    await node.inbound.start()
    try:
        _, token = await node.services.keys.create("acme")
        account = await node.services.keys.authenticate(token)
        assert account is not None
        domain = new_domain(test_dns, "rpshop")
        added = await node.services.domains.add(account, domain)
        publish(test_dns, domain, added.records)
        await node.services.domains.verify(account, domain)
        recipient = f"bob@{inbox}"
        result = await node.services.sending.send(account, email_from(domain, to=recipient))
        await node.engine.run_until_idle()
        [received] = await receiver.wait_for(1)
        yield Sent(node, account, result.id, received, recipient, receiver, domain)
    finally:
        await node.inbound.close()
        await node.close()


def smtp_client(local_hostname: str | None = None) -> smtplib.SMTP:
    return smtplib.SMTP(
        INBOUND,
        25,
        local_hostname=local_hostname,
        timeout=CLIENT_TIMEOUT_S,
        source_address=(REPORTER, 0),
    )


def client_context(pki: TestPki) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca_pem_path))
    context.check_hostname = False  # we connect by address; the name is checked below
    return context


def dsn_for(sent: Sent, case: shapes.Case = shapes.POSTFIX_DSN) -> bytes:
    """``case`` rewritten as a report about the message ``sent`` delivered."""
    raw = case.raw.replace("bob@example.net", sent.recipient)
    raw = raw.replace(shapes.RETURN_PATH, sent.received.mail_from)
    return raw.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def send_report(pki: TestPki, rcpt: str, data: bytes, *, mail_from: str = "") -> None:
    with smtp_client(local_hostname="mx.rpinbox.test") as client:
        client.starttls(context=client_context(pki))
        client.sendmail(mail_from, [rcpt], data)


async def status_of(sent: Sent) -> RecipientStatus:
    view = await sent.node.store.get_message(sent.message_id)
    assert view is not None
    [recipient] = view.recipients
    return recipient.status


async def test_report_over_smtp_bounces_late_and_reaches_a_webhook(
    sent: Sent, pki: TestPki
) -> None:
    node = sent.node
    assert await status_of(sent) is RecipientStatus.DELIVERED
    async with WebhookReceiver(HOOKS) as hooks:
        await node.webhooks.create(sent.account.id, hooks.url(), ["email.bounced"])

        await asyncio.to_thread(send_report, pki, sent.received.mail_from, dsn_for(sent))

        assert await status_of(sent) is RecipientStatus.BOUNCED
        [listed] = await node.store.list_suppressions(sent.account.id, limit=10)
        assert (listed.address, listed.reason) == (sent.recipient, "bounce")
        [report] = await node.services.return_path.reports(sent.account.id)
        assert (report.kind, report.matched, report.peer) == ("bounce", 1, REPORTER)
        await node.dispatcher.run_until_idle()
        [arrival] = hooks.arrivals
    event = json.loads(arrival.body)
    assert event["type"] == "email.bounced"
    assert event["data"]["async"] is True
    assert event["data"]["recipient"] == sent.recipient
    assert event["data"]["bounce_class"] == "bad_mailbox"
    assert event["data"]["reply"]["enhanced_code"] == "5.1.1"


async def test_listener_offers_starttls_and_no_auth(sent: Sent, pki: TestPki) -> None:
    def ehlo_twice() -> tuple[set[str], set[str], str | None]:
        with smtp_client() as client:
            client.ehlo()
            before = set(client.esmtp_features)
            client.starttls(context=client_context(pki))
            client.ehlo()
            assert isinstance(client.sock, ssl.SSLSocket)
            return before, set(client.esmtp_features), client.sock.version()

    before, after, version = await asyncio.to_thread(ehlo_twice)
    assert version in ("TLSv1.2", "TLSv1.3")
    assert "starttls" in before
    assert "auth" not in before | after
    assert "size" in after


@pytest.mark.parametrize(
    "rcpt",
    [
        pytest.param("bob@example.net", id="relay-attempt"),
        pytest.param("postmaster@pstbounces.example.com", id="other-local-part"),
        pytest.param("bounces+01JFORGED000000000000000000-abcdefgh@pstbounces.x.test", id="forged"),
    ],
)
async def test_addresses_not_ours_are_refused_at_rcpt(sent: Sent, pki: TestPki, rcpt: str) -> None:
    def try_rcpt() -> tuple[int, bytes]:
        with smtp_client() as client:
            client.starttls(context=client_context(pki))
            client.ehlo()
            client.mail("")
            return client.rcpt(rcpt)

    code, text = await asyncio.to_thread(try_rcpt)
    assert (code, text[:5]) == (550, b"5.1.1")
    assert await sent.node.services.return_path.reports(None) == []


async def test_altered_return_path_is_refused_and_nothing_is_touched(
    sent: Sent, pki: TestPki
) -> None:
    local, _, host = sent.received.mail_from.partition("@")
    altered = f"{local[:-1]}{'b' if local[-1] != 'b' else 'c'}@{host}"

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(send_report, pki, altered, dsn_for(sent))

    assert refused.value.recipients[altered][0] == 550
    assert await status_of(sent) is RecipientStatus.DELIVERED
    assert await sent.node.store.list_suppressions(sent.account.id, limit=10) == []
    assert await sent.node.services.return_path.reports(sent.account.id) == []


async def test_a_flood_is_cut_per_connection(sent: Sent, pki: TestPki) -> None:
    auto_reply = dsn_for(sent, shapes.OUT_OF_OFFICE)

    def flood() -> list[int]:
        codes = []
        with smtp_client() as client:
            client.starttls(context=client_context(pki))
            client.ehlo()
            for _ in range(5):
                try:
                    client.sendmail("", [sent.received.mail_from], auto_reply)
                    codes.append(250)
                except smtplib.SMTPSenderRefused as error:
                    codes.append(error.smtp_code)
                    break
                except smtplib.SMTPServerDisconnected:
                    codes.append(0)
                    break
        return codes

    codes = await asyncio.to_thread(flood)
    assert codes == [250, 250, 250, 421]  # max_reports_per_connection = 3
    kept = await sent.node.services.return_path.reports(sent.account.id)
    assert [r.kind for r in kept] == ["auto_reply"] * 3


async def test_ten_megabyte_report_is_taken_and_read_by_its_head(sent: Sent, pki: TestPki) -> None:
    big = dsn_for(sent) + b"x" * 76 + b"\r\n"
    big = big + (b"y" * 998 + b"\r\n") * (10_000_000 // 1000)

    await asyncio.to_thread(send_report, pki, sent.received.mail_from, big)

    assert await status_of(sent) is RecipientStatus.BOUNCED
    [report] = await sent.node.services.return_path.reports(sent.account.id)
    assert report.size > 10_000_000
    assert any("only the first" in p for p in report.summary["problems"])


async def test_mailto_unsubscribe_through_the_listener(sent: Sent, pki: TestPki) -> None:
    node = sent.node
    carol = f"carol@{sent.recipient.split('@')[1]}"
    request = email_from(sent.domain, to=carol)
    result = await node.services.sending.send(sent.account, replace(request, unsubscribe=True))
    await node.engine.run_until_idle()
    [_, received] = await sent.receiver.wait_for(2)
    header = Parser().parsestr(received.data.decode(), headersonly=True)["List-Unsubscribe"]
    unfolded = " ".join(header.split())
    mailto = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", unfolded)
    assert mailto is not None
    address, token = mailto.group(1), mailto.group(2)
    assert address == f"unsubscribe@pstbounces.{sent.domain}"
    letter = f"From: {carol}\r\nTo: {address}\r\nSubject: {token}\r\n\r\nunsubscribe\r\n"

    await asyncio.to_thread(send_report, pki, address, letter.encode(), mail_from=carol)

    [listed] = await node.store.list_suppressions(sent.account.id, limit=10)
    assert (listed.address, listed.reason, listed.source_message_id) == (
        carol,
        "unsubscribe",
        result.id,
    )
    events = await node.store.list_events(account_id=sent.account.id, limit=100)
    assert [e.payload["recipient"] for e in events if e.type == "email.unsubscribed"] == [carol]
    [kept] = await node.services.return_path.reports(sent.account.id, message_id=result.id)
    assert (kept.kind, kept.shape) == ("unsubscribe", "mailto")

    # The mailto of a domain nobody sends from is refused at RCPT, like any other address.
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await asyncio.to_thread(
            send_report, pki, "unsubscribe@pstbounces.nobody.example", letter.encode()
        )


async def test_malformed_reports_are_kept_and_touch_nothing(sent: Sent, pki: TestPki) -> None:
    deep = "".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n' for i in range(500)
    )
    garbage = [
        b"\x00\xff\xfe binary junk \x01\r\n\r\n\x80\x81",
        ('Content-Type: multipart/report; boundary="b0"\r\n\r\n' + deep).encode(),
        b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary\r\n",
    ]
    for data in garbage:
        await asyncio.to_thread(send_report, pki, sent.received.mail_from, data)

    kept = await sent.node.services.return_path.reports(sent.account.id)
    assert [r.kind for r in kept] == ["unknown"] * 3
    assert all(r.matched == 0 for r in kept)
    assert await status_of(sent) is RecipientStatus.DELIVERED
    assert await sent.node.store.list_suppressions(sent.account.id, limit=10) == []
