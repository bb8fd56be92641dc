"""Sending: verified domains only, signed at ingest, envelope in the return-path domain,
tenant isolation, idempotency, all-or-nothing batches."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import dkim
import pytest

from postillon.clock import FakeClock
from postillon.config.settings import DkimSettings
from postillon.domains import ReturnPath, TagKey, read_return_path
from postillon.message.errors import InvalidMessageError
from postillon.message.model import OutgoingEmail
from postillon.queue.status import RecipientStatus
from postillon.services.container import Services
from postillon.services.errors import (
    DomainNotVerifiedError,
    IdempotencyConflictError,
    NotFoundError,
)
from postillon.services.sending import MAX_BATCH, SendRequest
from postillon.storage import Account, MessageFilter
from tests.integration.domains.oracles import dkimpy_dnsfunc
from tests.integration.services.conftest import MASTER, World, new_domain
from tests.integration.services.publish import publish
from tests.integration.services.sending_support import email_from, verified_domain
from tests.support.dns_server import TestDns

pytestmark = pytest.mark.timeout(60)


async def test_a_domain_never_added_is_refused_with_what_to_do(world: World, acme: Account) -> None:
    with pytest.raises(DomainNotVerifiedError) as caught:
        await world.services.sending.send(acme, email_from("nowhere.example"))

    assert caught.value.domain == "nowhere.example"
    assert "add nowhere.example" in caught.value.hint
    assert (await world.store.list_messages(MessageFilter(), limit=10)).items == ()


async def test_an_unverified_domain_is_refused_with_its_problems(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = new_domain(test_dns, "unverified")
    test_dns.add_zone(domain, "www A 192.0.2.1")
    await world.services.domains.add(acme, domain)
    await world.services.domains.verify(acme, domain)

    with pytest.raises(DomainNotVerifiedError) as caught:
        await world.services.sending.send(acme, email_from(domain))

    assert f"/v1/domains/{domain}/verify" in caught.value.hint
    assert "missing" in caught.value.hint


async def test_another_accounts_verified_domain_is_refused(
    world: World, acme: Account, globex: Account, test_dns: TestDns
) -> None:
    domain = await verified_domain(world, acme, test_dns, "theirs")

    with pytest.raises(DomainNotVerifiedError):
        await world.services.sending.send(globex, email_from(domain))


async def test_a_sent_message_is_signed_and_has_the_bounce_envelope(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = await verified_domain(world, acme, test_dns, "signed")

    result = await world.services.sending.send(acme, email_from(domain))

    assert result.status == "queued"
    view = await world.store.get_message(result.id, with_body=True)
    assert view is not None
    assert view.body is not None
    assert read_return_path(view.mail_from, TagKey.derive(MASTER.material)) == ReturnPath(
        domain, result.id, is_tagged=True, address=view.mail_from
    )
    assert view.body.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert b" l=" not in view.body.split(b"\r\n\r\n")[0]
    assert dkim.verify(view.body, dnsfunc=dkimpy_dnsfunc(test_dns.nameserver)) is True
    assert view.header_message_id.endswith(f"@{domain}>")
    assert (view.tags, dict(view.metadata)) == (("welcome",), {"user": "42"})
    assert [r.status for r in view.recipients] == [RecipientStatus.QUEUED]


async def test_invalid_input_stores_nothing(world: World, acme: Account, test_dns: TestDns) -> None:
    domain = await verified_domain(world, acme, test_dns, "invalid")
    bad = SendRequest(
        OutgoingEmail(
            from_=f"alice@{domain}",
            to=("bob@x.example",),
            subject="a\r\nBcc: x@evil.example",
            text="t",
        )
    )

    with pytest.raises(InvalidMessageError) as caught:
        await world.services.sending.send(acme, bad)

    assert [p.field for p in caught.value.problems] == ["subject"]
    assert (await world.store.list_messages(MessageFilter(), limit=10)).items == ()


async def test_another_accounts_message_is_not_found(
    world: World, acme: Account, globex: Account, test_dns: TestDns
) -> None:
    domain = await verified_domain(world, acme, test_dns, "isolated")
    result = await world.services.sending.send(acme, email_from(domain))

    with pytest.raises(NotFoundError):
        await world.services.sending.get(globex, result.id)
    assert (await world.services.sending.get(acme, result.id)).id == result.id
    theirs = await world.services.sending.list(globex, MessageFilter(account_id=acme.id), 10, None)
    assert theirs.items == ()
    ours = await world.services.sending.list(acme, MessageFilter(), 10, None)
    assert [m.id for m in ours.items] == [result.id]


async def test_a_bad_cursor_is_invalid_input(world: World, acme: Account) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        await world.services.sending.list(acme, MessageFilter(), 10, "not-a-cursor")

    assert [p.field for p in caught.value.problems] == ["cursor"]


async def test_the_same_key_and_body_answer_the_first_result(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = await verified_domain(world, acme, test_dns, "idem")
    request = email_from(domain)

    first = await world.services.sending.send(
        acme, request, idempotency_key="k1", fingerprint="body-a"
    )
    again = await world.services.sending.send(
        acme, request, idempotency_key="k1", fingerprint="body-a"
    )

    assert again == first
    assert len((await world.store.list_messages(MessageFilter(), limit=10)).items) == 1


async def test_the_same_key_with_another_body_is_a_conflict(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = await verified_domain(world, acme, test_dns, "conflict")
    await world.services.sending.send(
        acme, email_from(domain), idempotency_key="k1", fingerprint="body-a"
    )

    with pytest.raises(IdempotencyConflictError):
        await world.services.sending.send(
            acme, email_from(domain, subject="other"), idempotency_key="k1", fingerprint="body-b"
        )

    assert len((await world.store.list_messages(MessageFilter(), limit=10)).items) == 1


async def test_keys_are_per_account_and_expire_after_a_day(
    world: World, acme: Account, globex: Account, test_dns: TestDns, clock: FakeClock
) -> None:
    ours = await verified_domain(world, acme, test_dns, "expire")
    theirs = await verified_domain(world, globex, test_dns, "expireother")
    first = await world.services.sending.send(
        acme, email_from(ours), idempotency_key="k1", fingerprint="a"
    )
    other = await world.services.sending.send(
        globex, email_from(theirs), idempotency_key="k1", fingerprint="b"
    )
    clock.advance(timedelta(hours=24, seconds=1))

    later = await world.services.sending.send(
        acme, email_from(ours), idempotency_key="k1", fingerprint="c"
    )

    assert len({first.id, other.id, later.id}) == 3


async def test_a_batch_is_stored_whole(world: World, acme: Account, test_dns: TestDns) -> None:
    domain = await verified_domain(world, acme, test_dns, "batch")
    requests = [email_from(domain, to=f"r{i}@receiver.example") for i in range(3)]

    results = await world.services.sending.send_batch(acme, requests)

    assert len({r.id for r in results}) == 3
    for result, request in zip(results, requests, strict=True):
        view = await world.services.sending.get(acme, result.id)
        assert [r.address for r in view.recipients] == list(request.email.to)


async def test_one_bad_email_refuses_the_whole_batch(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = await verified_domain(world, acme, test_dns, "batchbad")
    good = email_from(domain)
    bad = replace(good, email=replace(good.email, to=("not an address",)))

    with pytest.raises(InvalidMessageError) as caught:
        await world.services.sending.send_batch(acme, [good, bad, good])

    assert [p.field for p in caught.value.problems] == ["[1].to[0]"]
    assert (await world.store.list_messages(MessageFilter(), limit=10)).items == ()


@pytest.mark.parametrize(
    "size", [pytest.param(0, id="empty"), pytest.param(MAX_BATCH + 1, id="too-many")]
)
async def test_batch_sizes_are_bounded(world: World, acme: Account, size: int) -> None:
    with pytest.raises(InvalidMessageError):
        await world.services.sending.send_batch(acme, [email_from("x.example")] * size)


async def test_a_deleted_domain_stops_signing_at_once(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    domain = await verified_domain(world, acme, test_dns, "deleted")
    await world.services.sending.send(acme, email_from(domain))

    await world.services.domains.delete(acme, domain)

    with pytest.raises(DomainNotVerifiedError):
        await world.services.sending.send(acme, email_from(domain))


async def test_ed25519_adds_a_second_signature(
    world: World, acme: Account, test_dns: TestDns, clock: FakeClock
) -> None:
    settings = world.settings.model_copy(update={"dkim": DkimSettings(ed25519=True)})
    services = Services.build(settings, world.store, None, clock, master_key=MASTER)
    try:
        domain = new_domain(test_dns, "ed")
        added = await services.domains.add(acme, domain)
        publish(test_dns, domain, added.records)
        verified = await services.domains.verify(acme, domain)
        result = await services.sending.send(acme, email_from(domain))
    finally:
        await services.close()

    dkim_records = [r for r in verified.records if r.purpose == "dkim"]
    assert [r.value.split(";")[1].strip() for r in dkim_records] == ["k=rsa", "k=ed25519"]
    assert {r.status for r in dkim_records} == {"verified"}
    view = await world.store.get_message(result.id, with_body=True)
    assert view is not None
    assert view.body is not None
    header = view.body.split(b"\r\n\r\n")[0]
    assert header.count(b"DKIM-Signature:") == 2
    assert b"a=ed25519-sha256" in header.split(b"DKIM-Signature:")[2]
    dnsfunc = dkimpy_dnsfunc(test_dns.nameserver)
    assert dkim.verify(view.body, dnsfunc=dnsfunc) is True
    assert dkim.DKIM(view.body).verify(idx=1, dnsfunc=dnsfunc) is True


async def test_expired_idempotency_keys_are_forgotten(
    world: World, acme: Account, test_dns: TestDns, clock: FakeClock
) -> None:
    domain = await verified_domain(world, acme, test_dns, "forget")
    await world.services.sending.send(acme, email_from(domain), idempotency_key="old")
    clock.advance(timedelta(hours=23))
    await world.services.sending.send(acme, email_from(domain), idempotency_key="new")
    clock.advance(timedelta(hours=2))

    assert await world.services.sending.forget_expired_keys() == 1
    assert await world.services.sending.forget_expired_keys() == 0
