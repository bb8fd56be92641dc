"""Submission with real clients: smtplib and swaks over STARTTLS (587) and implicit TLS
(465), the message as stored (kept byte for byte but for what must change), then delivered to
an aiosmtpd MX and judged by dkimpy, pyspf and DMARC alignment."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import subprocess

import dkim
import pytest
from authheaders import check_dkim, check_dmarc, check_spf  # type: ignore[import-untyped]

from postillon.domains import parse_bounce_address
from postillon.domains.return_path import TAG_SEPARATOR
from postillon.queue.status import RecipientStatus
from tests.integration.domains.oracles import dkimpy_dnsfunc, dmarc_dnsfunc
from tests.integration.submission.conftest import (
    HELO_NAME,
    HOST,
    IMPLICIT_PORT,
    MX_ADDRESS,
    SOURCE_ADDRESS,
    STARTTLS_PORT,
    SubmissionWorld,
)
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

pytestmark = [pytest.mark.timeout(60)]


def client_message(world: SubmissionWorld, *, bcc: str) -> bytes:
    # Bare LF line ends, no Message-ID, no Date, a Bcc header, a leading-dot line, 8-bit text.
    return (
        f"From: Shop <shop@{world.acme_domain}>\n"
        f"To: bob@{world.recipient_domain}\n"
        f"Bcc: {bcc}\n"
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "X-Custom: kept as is   \n"
        "\n"
        "Hällo\n"
        ".leading dot\n"
    ).encode()


def _smtplib_send(world: SubmissionWorld, message: bytes, rcpts: list[str]) -> None:
    with smtplib.SMTP(HOST, STARTTLS_PORT, timeout=10) as client:
        client.starttls(context=world.client_context())
        client.login("any user name", world.acme_key)
        refused = client.sendmail(f"shop@{world.acme_domain}", rcpts, message)
        assert refused == {}


@pytest.mark.usefixtures("pyspf_on_test_dns", "test_is_a_public_suffix")
async def test_smtplib_submission_is_stored_as_sent_and_delivered_with_dkim_spf_dmarc(
    world: SubmissionWorld, test_dns: TestDns, smtp_receiver: ReceiverFactory
) -> None:
    receiver = await smtp_receiver(MX_ADDRESS)
    bob, carol = f"bob@{world.recipient_domain}", f"carol@{world.recipient_domain}"
    sent = client_message(world, bcc=carol)
    await asyncio.to_thread(_smtplib_send, world, sent, [bob, carol])

    [message_id] = await world.messages()
    view = await world.node.services.sending.get(world.acme, message_id, with_body=True)
    assert (view.source, view.api_key_prefix) == ("smtp", world.acme_key[:12])
    assert view.subject == "Grüße"
    assert sorted(r.address for r in view.recipients) == sorted([bob, carol])
    assert view.body is not None
    header, _, body = view.body.partition(b"\r\n\r\n")
    # DKIM-Signature, then what we added (trace first), then the client's header minus Bcc.
    lines = header.split(b"\r\n")
    assert lines[0].startswith(b"DKIM-Signature:")
    added = [line.split(b":")[0] for line in lines if not line.startswith((b" ", b"\t"))]
    assert added[1:4] == [b"Received", b"Message-ID", b"Date"]
    trace = view.body.split(b"\r\nMessage-ID:")[0].split(b"Received: ")[1]
    assert b" ([127.0.0.1])\r\n\tby smtp.postillon.test\r\n" in trace
    assert b"(using TLSv1.3 with cipher " in trace
    assert b"with ESMTPSA; " in trace
    client_header = sent.split(b"\n\n")[0].replace(b"\n", b"\r\n")
    kept = b"\r\n".join(
        line for line in client_header.split(b"\r\n") if not line.startswith(b"Bcc:")
    )
    assert header.endswith(kept)
    assert b"Bcc" not in view.body
    # smtplib stuffed the dot after a bare LF and ended the data with CRLF after our "\n".
    assert body == "Hällo\r\n.leading dot\r\n\r\n".encode(), body

    await world.node.engine.run_until_idle()
    received = await receiver.wait_for(1)
    assert sorted(received[0].rcpt_tos) == sorted([bob, carol])
    data = received[0].data
    assert received[0].peer == SOURCE_ADDRESS
    # The return path carries its keyed tag (bounces+<id>-<tag>@...), as API mail does.
    tagged = parse_bounce_address(received[0].mail_from)
    assert tagged is not None
    assert tagged[0] == world.acme_domain
    assert tagged[1].startswith(message_id + TAG_SEPARATOR)
    assert dkim.verify(data, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver)) is True
    spf = check_spf(received[0].peer, received[0].mail_from, HELO_NAME)
    dkim_auth = check_dkim(data, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver))
    dmarc = check_dmarc(data, spf, dkim_auth, dnsfunc=dmarc_dnsfunc(test_dns.nameserver))
    assert (spf.result, dkim_auth.result, dmarc.result) == ("pass", "pass", "pass")
    view = await world.node.services.sending.get(world.acme, message_id)
    assert {r.status for r in view.recipients} == {RecipientStatus.DELIVERED}
    events = await world.node.store.list_events(account_id=world.acme.id, limit=20)
    delivered = [e.payload for e in events if e.type == "email.delivered"]
    assert len(delivered) == 2
    assert {(p["source"], p["api_key_prefix"]) for p in delivered} == {
        ("smtp", world.acme_key[:12])
    }


async def test_events_carry_source_and_key_prefix(world: SubmissionWorld) -> None:
    message = client_message(world, bcc=f"x@{world.recipient_domain}")
    await asyncio.to_thread(_smtplib_send, world, message, [f"bob@{world.recipient_domain}"])
    events = await world.node.store.list_events(account_id=world.acme.id, limit=10)
    queued = [e for e in events if e.type == "email.queued"]
    assert queued
    assert queued[0].payload["source"] == "smtp"
    assert queued[0].payload["api_key_prefix"] == world.acme_key[:12]


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks not installed (Debian swaks)")
@pytest.mark.parametrize(
    ("port", "tls_flag", "mechanism"),
    [
        pytest.param(STARTTLS_PORT, "--tls", "PLAIN", id="587-starttls-plain"),
        pytest.param(IMPLICIT_PORT, "--tls-on-connect", "LOGIN", id="465-implicit-login"),
    ],
)
async def test_swaks_submits(
    world: SubmissionWorld, port: int, tls_flag: str, mechanism: str
) -> None:
    command = [
        "swaks",
        "--server", HOST, "--port", str(port), tls_flag,
        "--auth", mechanism, "--auth-user", "swaks", "--auth-password", world.acme_key,
        "--from", f"app@{world.acme_domain}",
        "--to", f"bob@{world.recipient_domain}",
        "--header", f"From: App <app@{world.acme_domain}>",
        "--header", "Subject: from swaks",
        "--timeout", "10",
    ]  # fmt: skip
    result = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250 2.0.0 OK queued as" in result.stdout
    # swaks prints the AUTH exchange; the transcript we keep has no AUTH line either way.
    [message_id] = await world.messages()
    view = await world.node.services.sending.get(world.acme, message_id)
    assert (view.subject, view.source) == ("from swaks", "smtp")
