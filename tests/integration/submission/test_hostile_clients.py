"""Hostile and careless submission clients over real TLS: no relay under any sequence, no
tenant crossing, limits that answer precisely, and SMTP smuggling: exactly one message per
real end of data."""

from __future__ import annotations

import pytest

from postillon.services.keys import key_digest
from tests.integration.submission.conftest import (
    AUTH_FAILURES,
    HOST,
    IMPLICIT_PORT,
    MAX_MESSAGE_BYTES,
    STARTTLS_PORT,
    SubmissionWorld,
)
from tests.integration.submission.raw_client import RawClient

pytestmark = [pytest.mark.timeout(60)]


def tls_client(world: SubmissionWorld) -> RawClient:
    return RawClient(HOST, IMPLICIT_PORT, world.client_context())


def body(world: SubmissionWorld, text: str = "hello") -> bytes:
    return (
        f"From: shop@{world.acme_domain}\r\nTo: bob@{world.recipient_domain}\r\n"
        f"Subject: t\r\n\r\n{text}\r\n"
    ).encode()


def envelope(world: SubmissionWorld, sender: str | None = None) -> bytes:
    sender = sender or f"shop@{world.acme_domain}"
    return f"MAIL FROM:<{sender}>\r\nRCPT TO:<bob@{world.recipient_domain}>\r\nDATA\r\n".encode()


async def test_auth_before_tls_is_538_and_mail_without_auth_is_530(world: SubmissionWorld) -> None:
    async with RawClient(HOST, STARTTLS_PORT, None) as client:
        ehlo = await client.command(b"EHLO client.test\r\n")
        assert ehlo == [b"250 STARTTLS"]
        replies = await client.command(b"AUTH PLAIN AGEAYg==\r\n" + envelope(world), 4)
        assert [r[:9] for r in replies] == [b"538 5.7.1", b"530 5.7.0", b"530 5.7.0", b"530 5.7.0"]
    async with tls_client(world) as client:
        await client.command(b"EHLO client.test\r\n")
        replies = await client.command(envelope(world) + body(world) + b".\r\n", 4)
        assert [r[:3] for r in replies] == [b"530", b"530", b"530", b"500"]
    assert await world.messages() == []


async def test_no_relay_after_a_failed_auth_or_a_reset(world: SubmissionWorld) -> None:
    async with tls_client(world) as client:
        assert (await client.login("pst_wrong"))[:3] == b"535"
        replies = await client.command(b"RSET\r\n" + envelope(world), 4)
        assert [r[:3] for r in replies] == [b"250", b"530", b"530", b"530"]
    assert await world.messages() == []


@pytest.mark.parametrize("whose", ["other-tenant", "unknown"])
async def test_envelope_sender_of_another_account_is_indistinguishable(
    world: SubmissionWorld, whose: str
) -> None:
    domain = world.globex_domain if whose == "other-tenant" else "nowhere.invalid"
    async with tls_client(world) as client:
        assert (await client.login(world.acme_key))[:3] == b"235"
        [reply] = await client.command(f"MAIL FROM:<x@{domain}>\r\n".encode())
    assert reply == (
        b"550 5.7.1 sender address rejected: not a verified sender domain of this account"
    )


async def test_from_header_of_another_account_is_refused_at_data(world: SubmissionWorld) -> None:
    forged = body(world).replace(world.acme_domain.encode(), world.globex_domain.encode(), 1)
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        replies = await client.command(envelope(world) + forged + b".\r\n", 4)
    assert [r[:9] for r in replies] == [b"250 2.1.0", b"250 2.1.5", b"354 end d", b"550 5.7.1"]
    assert await world.messages() == []


async def test_failed_auth_is_throttled_per_address(world: SubmissionWorld) -> None:
    for _ in range(AUTH_FAILURES):
        async with tls_client(world) as client:
            assert (await client.login("pst_wrong"))[:9] == b"535 5.7.8"
    async with tls_client(world) as client:
        # Even the right key is not checked now.
        assert (await client.login(world.acme_key))[:9] == b"454 4.7.0"


async def test_a_revoked_key_stops_at_the_next_mail(world: SubmissionWorld) -> None:
    async with tls_client(world) as client:
        assert (await client.login(world.acme_key))[:3] == b"235"
        [info] = await world.node.services.keys.list(world.acme.id)
        await world.node.services.keys.revoke(world.acme.id, info.id)
        [reply] = await client.command(envelope(world)[: envelope(world).index(b"\r\n") + 2])
    assert reply[:9] == b"535 5.7.8"


async def test_rate_limit_is_shared_with_the_api(world: SubmissionWorld) -> None:
    bucket = key_digest(world.acme_key)
    while world.node.limiter.take(bucket).allowed:  # the API's requests drain the bucket
        pass
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        [reply] = await client.command(f"MAIL FROM:<shop@{world.acme_domain}>\r\n".encode())
    assert reply.startswith(b"450 4.7.0 rate limit exceeded")


async def test_long_commands_garbage_and_then_a_good_message(world: SubmissionWorld) -> None:
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        garbage = b"NOOP " + b"x" * 600 + b"\r\n" + b"\x00\xff\x01junk\r\nFOO BAR\r\n"
        replies = await client.command(garbage + envelope(world) + body(world) + b".\r\n", 7)
    assert [r[:3] for r in replies] == [b"500", b"500", b"500", b"250", b"250", b"354", b"250"]
    assert len(await world.messages()) == 1


async def test_too_many_errors_end_the_session(world: SubmissionWorld) -> None:
    async with tls_client(world) as client:
        replies = await client.command(b"BAD\r\n" * 11, 11)
        assert replies[-1][:3] == b"421"
        assert await client.closed()


async def test_over_size_in_mail_and_in_data(world: SubmissionWorld) -> None:
    big = body(world, "x" * 900 + "\r\n") * (MAX_MESSAGE_BYTES // 900)
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        sender = f"shop@{world.acme_domain}"
        [reply] = await client.command(
            f"MAIL FROM:<{sender}> SIZE={MAX_MESSAGE_BYTES + 1}\r\n".encode()
        )
        assert reply[:9] == b"552 5.3.4"
        replies = await client.command(envelope(world) + big + b".\r\nNOOP\r\n", 5)
    assert [r[:9] for r in replies][3:] == [b"552 5.3.4", b"250 2.0.0"]
    assert await world.messages() == []


async def test_a_thousand_recipients(world: SubmissionWorld) -> None:
    rcpts = b"".join(f"RCPT TO:<r{i}@{world.recipient_domain}>\r\n".encode() for i in range(1000))
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        sender = f"MAIL FROM:<shop@{world.acme_domain}>\r\n".encode()
        replies = await client.command(sender + rcpts + b"DATA\r\n", 1002)
        assert [r[:3] for r in replies[1:101]] == [b"250"] * 100
        assert {r[:9] for r in replies[101:1001]} == {b"452 4.5.3"}
        assert replies[1001][:3] == b"354"
        [done] = await client.command(body(world) + b".\r\n")
        assert done[:3] == b"250"
    [message_id] = await world.messages()
    view = await world.node.services.sending.get(world.acme, message_id)
    assert len(view.recipients) == 100


SMUGGLING_VECTORS = [
    pytest.param(b"\n.\r\n", id="lf-dot-crlf"),
    pytest.param(b"\r.\r\n", id="cr-dot-crlf"),
    pytest.param(b"\r\n.\r", id="crlf-dot-cr"),
    pytest.param(b"\n.\n", id="lf-dot-lf"),
    pytest.param(b"\r\n.\n", id="crlf-dot-lf"),
    pytest.param(b"\r.\r", id="cr-dot-cr"),
    pytest.param(b"\n.\r", id="lf-dot-cr"),
    pytest.param(b"\r\n\x00.\r\n", id="nul-dot"),
]


@pytest.mark.parametrize("vector", SMUGGLING_VECTORS)
async def test_smuggling_vectors_give_exactly_one_message(
    world: SubmissionWorld, vector: bytes
) -> None:
    victim = f"victim@{world.recipient_domain}"
    smuggled = (
        f"MAIL FROM:<ceo@{world.acme_domain}>\r\nRCPT TO:<{victim}>\r\nDATA\r\n"
        f"From: ceo@{world.acme_domain}\r\n\r\nsmuggled\r\n"
    ).encode()
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        message = body(world).removesuffix(b"\r\n") + vector + smuggled
        replies = await client.command(envelope(world) + message + b".\r\nQUIT\r\n", 5)
    assert [r[:3] for r in replies] == [b"250", b"250", b"354", b"250", b"221"]
    [message_id] = await world.messages()
    view = await world.node.services.sending.get(world.acme, message_id, with_body=True)
    assert [r.address for r in view.recipients] == [f"bob@{world.recipient_domain}"]
    assert view.body is not None
    assert b"smuggled" in view.body  # kept as content of the one message


async def test_two_real_ends_of_data_give_two_messages(world: SubmissionWorld) -> None:
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        one = envelope(world) + body(world) + b".\r\n"
        replies = await client.command(one + one, 8)
    assert [r[:3] for r in replies] == [b"250", b"250", b"354", b"250"] * 2
    assert len(await world.messages()) == 2


async def test_smtputf8_recipient_and_a_suppressed_one_are_accepted(world: SubmissionWorld) -> None:
    suppressed = f"gone@{world.recipient_domain}"
    await world.node.services.suppressions.add(world.acme, suppressed)
    utf8 = f"jörg@{world.recipient_domain}"
    async with tls_client(world) as client:
        await client.login(world.acme_key)
        commands = (
            f"MAIL FROM:<shop@{world.acme_domain}> SMTPUTF8 BODY=8BITMIME\r\n"
            f"RCPT TO:<{utf8}>\r\nRCPT TO:<{suppressed}>\r\nDATA\r\n"
        ).encode()
        replies = await client.command(commands + body(world, "grüß") + b".\r\n", 5)
    assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"354", b"250"]
    [message_id] = await world.messages()
    view = await world.node.services.sending.get(world.acme, message_id)
    statuses = {r.address: r.status.value for r in view.recipients}
    assert statuses == {utf8: "queued", suppressed: "suppressed"}
