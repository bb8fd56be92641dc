"""Reports received on the return path, on both databases: a late bounce after delivery, a
delay, a complaint, an auto-reply, reports to unknown or altered addresses, and the RCPT rule
(tagged addresses, untagged ones of messages queued before tags)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from postillon.domains import TagKey, bounce_address, tagged_bounce_address
from postillon.message.model import OutgoingEmail
from postillon.queue.status import RecipientStatus
from postillon.services.sending import SendRequest
from postillon.storage import Account
from postillon.storage.records import NewMessage, NewRecipient, RecipientOutcome
from postillon.storage.schema import messages
from tests.integration.services.conftest import MASTER, START, World
from tests.integration.services.sending_support import verified_domain
from tests.support.dns_server import TestDns
from tests.unit.reports import shapes

pytestmark = pytest.mark.timeout(60)

BOB = "bob@receiver.example"
CAROL = "carol@receiver.example"


async def delivered(world: World, account: Account, test_dns: TestDns) -> tuple[str, str]:
    """A message to Bob and Carol, both delivered; returns (message id, envelope sender)."""
    domain = await verified_domain(world, account, test_dns, "rp")
    request = SendRequest(
        OutgoingEmail(from_=f"shop@{domain}", to=(BOB, CAROL), subject="Your order", text="t")
    )
    sent = await world.services.sending.send(account, request)
    jobs = await world.store.claim_due("t", START, 60, 10)
    outcomes = [
        RecipientOutcome(recipient.id, RecipientStatus.DELIVERED, None)
        for job in jobs
        for recipient in job.recipients
    ]
    await world.store.record_outcomes("t", outcomes)
    view = await world.store.get_message(sent.id)
    assert view is not None
    return sent.id, view.mail_from


def for_bob(case: shapes.Case, return_path: str) -> bytes:
    raw = case.raw.replace("bob@example.net", BOB).replace(shapes.RETURN_PATH, return_path)
    return replace(case, raw=raw).data


async def statuses(world: World, message_id: str) -> dict[str, RecipientStatus]:
    view = await world.store.get_message(message_id)
    assert view is not None
    return {r.address: r.status for r in view.recipients}


async def event_types(world: World, message_id: str) -> list[str]:
    events = await world.store.list_events(message_id=message_id, limit=100)
    return [e.type for e in events]


async def test_late_bounce_after_delivery(world: World, acme: Account, test_dns: TestDns) -> None:
    message_id, return_path = await delivered(world, acme, test_dns)
    data = for_bob(shapes.POSTFIX_DSN, return_path)

    stored = await world.services.return_path.receive(
        mail_from="", rcpt_to=return_path, data=data, peer="127.0.15.9"
    )

    assert (stored.kind, stored.matched, stored.account_id) == ("bounce", 1, acme.id)
    assert await statuses(world, message_id) == {
        BOB: RecipientStatus.BOUNCED,
        CAROL: RecipientStatus.DELIVERED,
    }
    events = await world.store.list_events(message_id=message_id, limit=100)
    bounced = [e for e in events if e.type == "email.bounced"]
    assert len(bounced) == 1
    payload = bounced[0].payload
    assert payload["async"] is True
    assert payload["recipient"] == BOB
    assert payload["bounce_class"] == "bad_mailbox"
    assert payload["reply"]["enhanced_code"] == "5.1.1"
    assert "User unknown" in payload["reply"]["text"]
    assert payload["report_id"] == stored.id
    [listed] = await world.store.list_suppressions(acme.id, limit=10)
    assert (listed.address, listed.reason, listed.source_message_id) == (BOB, "bounce", message_id)
    assert listed.detail is not None
    assert "User unknown" in listed.detail

    # The same report again (MTAs resend; people forward): nothing moves, nothing announced.
    again = await world.services.return_path.receive(
        mail_from="", rcpt_to=return_path, data=data, peer=None
    )
    assert again.matched == 0
    assert (await event_types(world, message_id)).count("email.bounced") == 1


async def test_delayed_dsn_is_an_event_only(world: World, acme: Account, test_dns: TestDns) -> None:
    message_id, return_path = await delivered(world, acme, test_dns)

    stored = await world.services.return_path.receive(
        mail_from="",
        rcpt_to=return_path,
        data=for_bob(shapes.POSTFIX_DELAY_DSN, return_path),
        peer=None,
    )

    assert (stored.kind, stored.matched) == ("delay", 1)
    assert (await statuses(world, message_id))[BOB] is RecipientStatus.DELIVERED
    events = await world.store.list_events(message_id=message_id, limit=100)
    [delayed] = [e for e in events if e.type == "email.delayed"]
    assert delayed.payload["reply"]["enhanced_code"] == "4.4.1"
    assert await world.store.list_suppressions(acme.id, limit=10) == []


async def test_complaint_suppresses_with_reason_complaint(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    message_id, return_path = await delivered(world, acme, test_dns)

    stored = await world.services.return_path.receive(
        mail_from="", rcpt_to=return_path, data=for_bob(shapes.ARF_ABUSE, return_path), peer=None
    )

    assert (stored.kind, stored.matched) == ("complaint", 1)
    events = await world.store.list_events(message_id=message_id, limit=100)
    [complained] = [e for e in events if e.type == "email.complained"]
    assert (complained.payload["recipient"], complained.payload["feedback_type"]) == (BOB, "abuse")
    [listed] = await world.store.list_suppressions(acme.id, limit=10)
    assert (listed.address, listed.reason) == (BOB, "complaint")
    assert (await statuses(world, message_id))[BOB] is RecipientStatus.DELIVERED


async def test_auto_reply_is_kept_and_changes_nothing(
    world: World, acme: Account, test_dns: TestDns
) -> None:
    message_id, return_path = await delivered(world, acme, test_dns)
    before = await event_types(world, message_id)

    stored = await world.services.return_path.receive(
        mail_from=BOB,
        rcpt_to=return_path,
        data=for_bob(shapes.OUT_OF_OFFICE, return_path),
        peer=None,
    )

    assert (stored.kind, stored.matched) == ("auto_reply", 0)
    assert await event_types(world, message_id) == before
    [kept] = await world.services.return_path.reports(acme.id, message_id=message_id)
    assert kept.id == stored.id


async def test_rcpt_rule(world: World, acme: Account, test_dns: TestDns) -> None:
    message_id, return_path = await delivered(world, acme, test_dns)
    accepts = world.services.return_path.accepts
    local, _, host = return_path.partition("@")
    assert await accepts(return_path)
    assert await accepts(f"<{return_path.upper()}>")
    assert not await accepts(local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + host)
    assert not await accepts(return_path.replace(message_id, message_id[:-1] + "Z"))
    # The untagged form of a tagged message was never used: refused.
    assert not await accepts(bounce_address(host.split(".", 1)[1], message_id))
    assert not await accepts("postmaster@" + host)
    assert not await accepts("bob@receiver.example")


async def test_untagged_address_of_a_message_queued_before_tags(
    world: World, acme: Account
) -> None:
    # A message stored the way sending did before tags: bounces+<id>@ with no tag.
    result = await world.store.enqueue(
        NewMessage(
            account_id=acme.id,
            mail_from="",
            recipients=(NewRecipient(BOB),),
            body=b"Subject: old\r\n\r\nold\r\n",
        )
    )
    old = bounce_address("old.example", result.message_id)
    async with world.services.engines.writer.begin() as connection:
        await connection.execute(
            messages.update().where(messages.c.id == result.message_id).values(mail_from=old)
        )
    assert await world.services.return_path.accepts(old)
    stored = await world.services.return_path.receive(
        mail_from="", rcpt_to=old, data=for_bob(shapes.EXIM, old), peer=None
    )
    assert (stored.message_id, stored.kind) == (result.message_id, "bounce")
    # Bob was never delivered (still queued): a report may still bounce him.
    assert (await statuses(world, result.message_id))[BOB] is RecipientStatus.BOUNCED


async def test_report_for_unknown_id_is_kept_unmatched(world: World, acme: Account) -> None:
    address = tagged_bounce_address(
        "gone.example", "01JGONE0000000000000000000", TagKey.derive(MASTER.material)
    )
    assert await world.services.return_path.accepts(address)  # the tag verifies: accepted

    stored = await world.services.return_path.receive(
        mail_from="", rcpt_to=address, data=for_bob(shapes.GMAIL, address), peer=None
    )

    assert (stored.account_id, stored.message_id, stored.matched) == (None, None, 0)
    [kept] = await world.services.return_path.reports(None)
    assert (kept.id, kept.kind, kept.shape) == (stored.id, "bounce", "gmail")
