"""Sessions that break during the data phase (scripted peers from tests/support/hostile.py).

A connection lost while the body is still going out cannot have delivered anything: deferred,
not a possible duplicate. A body that went out whole with no reply to its final dot may have
been delivered (RFC 5321 §6.1): deferred and flagged as a possible duplicate.
"""

from __future__ import annotations

import asyncio

import pytest

from postillon.delivery.job import FactKind
from postillon.queue.status import RecipientStatus
from tests.integration.delivery.conftest import (
    BODY,
    SHORT_FINAL_DOT_S,
    DeliveryFactory,
    HostileFactory,
    job,
    zone,
)
from tests.support.dns_server import TestDns
from tests.support.hostile import HostilePeer, Script

pytestmark = pytest.mark.timeout(30)

DROP_MX = "127.0.0.108"
SILENT_MX = "127.0.0.109"
# Bigger than every socket buffer between us and the peer (loopback send buffer up to 4 MiB,
# receive buffer 128 KiB while the peer does not read), so the drop comes while we still write.
BIG_BODY_LINES = 16 * 1024 * 1024 // 78
BIG_BODY = BODY + (b"y" * 76 + b"\r\n") * BIG_BODY_LINES
# Body lines the dropping peer reads before it hangs up.
LINES_BEFORE_DROP = 3
# Longer than the final-dot timeout the test sets; the server cancels the script at teardown.
SILENCE_S = 60.0


async def open_transaction(peer: HostilePeer) -> None:
    """Greeting, EHLO without PIPELINING, then MAIL, one RCPT and DATA accepted."""
    await peer.greet_and_ehlo("8BITMIME")
    await peer.expect(b"MAIL FROM:")
    await peer.send(b"250 2.1.0 ok\r\n")
    await peer.expect(b"RCPT TO:")
    await peer.send(b"250 2.1.5 ok\r\n")
    await peer.expect(b"DATA")
    await peer.send(b"354 go ahead\r\n")


async def drop_mid_data(peer: HostilePeer) -> None:
    await open_transaction(peer)
    for _ in range(LINES_BEFORE_DROP):
        await peer.read_command()
    # Returning aborts the connection (RST) while the client is still sending the body.


async def silent_after_dot(peer: HostilePeer) -> None:
    await open_transaction(peer)
    await peer.read_until_dot()
    await asyncio.sleep(SILENCE_S)


@pytest.mark.parametrize(
    ("ip", "script", "body", "final_dot_s", "kind", "is_duplicate"),
    [
        pytest.param(
            DROP_MX, drop_mid_data, BIG_BODY, 5.0, FactKind.PROTOCOL, False, id="dropped-mid-data"
        ),
        pytest.param(
            SILENT_MX,
            silent_after_dot,
            BODY,
            SHORT_FINAL_DOT_S,
            FactKind.NO_FINAL_REPLY,
            True,
            id="no-reply-to-final-dot",
        ),
    ],
)
async def test_broken_data_phase_defers(
    *,
    test_dns: TestDns,
    make_delivery: DeliveryFactory,
    hostile: HostileFactory,
    ip: str,
    script: Script,
    body: bytes,
    final_dot_s: float,
    kind: FactKind,
    is_duplicate: bool,
) -> None:
    domain = zone(test_dns, "broken", f"@ MX 10 mx\nmx A {ip}")
    server = await hostile(ip, script)
    delivery = await make_delivery(final_dot_s=final_dot_s)

    [fact] = await delivery.run(job(domain, f"a@{domain}", body=body))

    assert server.errors == []
    assert server.connections == 1
    assert (fact.kind, fact.is_transient, fact.possible_duplicate) == (kind, True, is_duplicate)
    assert fact.hop.mx_host == f"mx.{domain}"
    outcome = delivery.decide(fact)
    assert outcome.status is RecipientStatus.DEFERRED
    assert outcome.next_attempt_at is not None
    assert outcome.possible_duplicate is is_duplicate
    # The broken connection is never pooled.
    assert delivery.pool.idle_count() == 0


class DropsOnce:
    """A peer that hangs up mid-DATA on the first connection and then behaves: it counts the
    messages it took, so a test can tell "delivered once" from "delivered twice"."""

    def __init__(self) -> None:
        self.connections = 0
        self.accepted: list[bytes] = []

    async def __call__(self, peer: HostilePeer) -> None:
        self.connections += 1
        if self.connections == 1:
            await drop_mid_data(peer)
            return
        await open_transaction(peer)
        self.accepted.append(await peer.read_until_dot())
        await peer.send(b"250 2.0.0 queued\r\n")
        while (command := (await peer.read_command()).upper()) not in (b"QUIT", b""):
            await peer.send(b"250 2.0.0 ok\r\n" if command == b"RSET" else b"502 5.5.1 no\r\n")
        await peer.send(b"221 2.0.0 bye\r\n")


async def test_dropped_mid_data_then_delivered_once_on_a_new_connection(
    test_dns: TestDns, make_delivery: DeliveryFactory, hostile: HostileFactory
) -> None:
    domain = zone(test_dns, "redeliver", f"@ MX 10 mx\nmx A {DROP_MX}")
    script = DropsOnce()
    server = await hostile(DROP_MX, script)
    delivery = await make_delivery()
    the_job = job(domain, f"a@{domain}", body=BIG_BODY)

    [first] = await delivery.run(the_job)
    [second] = await delivery.run(the_job)

    assert server.errors == []
    assert delivery.decide(first).status is RecipientStatus.DEFERRED
    assert delivery.decide(second).status is RecipientStatus.DELIVERED
    assert not second.possible_duplicate
    assert server.connections == 2  # the broken connection was not reused
    assert script.accepted == [BIG_BODY + b".\r\n"]  # the whole body, once
