"""Bad sends: each refused with the right status, in the one error shape, naming the field, and
nothing stored."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from postillon.api import create_app
from postillon.services.container import Services
from postillon.services.sending import MAX_BATCH_RECIPIENTS
from postillon.storage.records import MessageFilter
from tests.integration.api.conftest import (
    MASTER,
    MAX_MESSAGE_BYTES,
    TEST_RATE_LIMIT,
    World,
    client_for,
    email,
)

# (changes to a valid body, the field the 422 must name)
INVALID: list[Any] = [
    pytest.param({"to": "ada@example.test\r\nBcc: eve@evil.test"}, "to", id="crlf-in-to"),
    pytest.param(
        {"to": ["a@example.test", "b@example.test", "x\n@e.test"]}, "to[2]", id="lf-in-to-2"
    ),
    pytest.param(
        {"cc": [{"email": "c@example.test", "name": "C\r\nBcc: e@evil.test"}]},
        "cc[0].name",
        id="crlf-in-name",
    ),
    pytest.param({"reply_to": "r@example.test\x00"}, "reply_to", id="nul-in-reply-to"),
    pytest.param({"subject": "Hi\r\nBcc: eve@evil.test"}, "subject", id="crlf-in-subject"),
    pytest.param(
        {"from": {"email": "x@sender.test", "name": "X\r\nBcc: e@evil.test"}},
        "from.name",
        id="crlf-in-from-name",
    ),
    pytest.param(
        {
            "html": '<img src="cid:logo">',
            "attachments": [{"content": "aGk=", "filename": "l.png", "content_id": "logo\r\nX: y"}],
        },
        "attachments[0].content_id",
        id="crlf-in-content-id",
    ),
    pytest.param({"subject": "Hi\x00"}, "subject", id="nul-in-subject"),
    pytest.param(
        {"headers": {"X-Tag": "a\r\nBcc: eve@evil.test"}},
        "headers.X-Tag",
        id="crlf-in-header-value",
    ),
    pytest.param({"headers": {"X-Tag\r\nBcc": "x"}}, "headers", id="crlf-in-header-name"),
    pytest.param({"headers": {"Message-ID": "<x@y>"}}, "headers.Message-ID", id="reserved-header"),
    pytest.param(
        {"attachments": [{"content": "aGk=", "filename": "a\r\n.txt"}]},
        "attachments[0].filename",
        id="crlf-in-filename",
    ),
    pytest.param(
        {
            "attachments": [
                {"content": "aGk=", "filename": "a.txt", "content_type": "text/plain\r\nX: y"}
            ]
        },
        "attachments[0].content_type",
        id="crlf-in-content-type",
    ),
    pytest.param(
        {"attachments": [{"content": "not base64!", "filename": "a.txt"}]},
        "attachments[0].content",
        id="bad-base64",
    ),
    pytest.param({"to": "not an address"}, "to", id="invalid-address"),
    pytest.param(
        {"to": ["ok@example.test", {"email": "@nope"}]}, "to[1].email", id="invalid-object-address"
    ),
    pytest.param({"to": [], "cc": None}, "to", id="no-recipient"),
    pytest.param({"to": 42}, "to", id="to-not-an-address"),
    pytest.param({"from": ["a@b.test"]}, "from", id="from-a-list"),
    pytest.param({"text": None}, "text", id="missing-body"),
    pytest.param({"bcc_list": ["x@example.test"]}, "bcc_list", id="unknown-field"),
    pytest.param(
        {"to": [{"email": "a@example.test", "nmae": "A"}]}, "to[0].nmae", id="unknown-nested-field"
    ),
    pytest.param({"tags": ["ok", "not ok"]}, "tags[1]", id="bad-tag"),
    pytest.param({"metadata": {"k": 1}}, "metadata.k", id="metadata-not-string"),
    pytest.param({"scheduled_at": "tomorrow"}, "scheduled_at", id="bad-date"),
    pytest.param({"scheduled_at": "2026-12-01T10:00:00"}, "scheduled_at", id="date-without-offset"),
    pytest.param({"scheduled_at": 1767225600}, "scheduled_at", id="date-as-number"),
    pytest.param(
        {"attachments": [{"content": "aGk=", "filename": "a", "content_type": "a/" + "b" * 1000}]},
        "attachments[0].content_type",
        id="long-content-type",
    ),
    pytest.param({"to": ["ok@example.test", '"a b"@example.test']}, "to[1]", id="quoted-space"),
    pytest.param({"to": '"a\u2028b"@example.test'}, "to", id="quoted-line-separator"),
    pytest.param({"cc": '"a\u202eb"@example.test'}, "cc", id="quoted-rtl-override"),
    pytest.param({"bcc": ['"a\u0085b"@example.test']}, "bcc[0]", id="quoted-nel"),
    # The clock stands at 2026-11-29: more than 30 days ahead is refused.
    pytest.param({"scheduled_at": "2026-12-30T00:00:01Z"}, "scheduled_at", id="too-far-ahead"),
]


async def _nothing_stored(world: World) -> None:
    account = await world.store.ensure_account("acme")
    page = await world.store.list_messages(MessageFilter(account_id=account.id), limit=10)
    assert page.items == ()


@pytest.mark.parametrize(("changes", "field"), INVALID)
async def test_invalid_send_is_422_naming_the_field(
    client: httpx.AsyncClient, world: World, sender: str, changes: dict[str, Any], field: str
) -> None:
    answer = await client.post("/v1/emails", json=email(sender, **changes))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["type"] == "validation_error"
    assert field in [f["field"] for f in error["fields"]], error
    assert field in error["message"]
    await _nothing_stored(world)


async def test_a_missing_from_is_named(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/emails", json={"to": "a@example.test", "text": "x"})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == [{"field": "from", "message": "is required"}]


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        pytest.param(b"{not json", {"Content-Type": "application/json"}, id="invalid-json"),
        pytest.param(b"", {"Content-Type": "application/json"}, id="empty-body"),
        pytest.param(b"[1, 2]", {"Content-Type": "application/json"}, id="not-an-object"),
    ],
)
async def test_a_body_that_is_not_an_email_is_422(
    client: httpx.AsyncClient, content: bytes, headers: dict[str, str]
) -> None:
    answer = await client.post("/v1/emails", content=content, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "body"


async def test_oversize_message_is_413(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    big = base64.b64encode(b"x" * (MAX_MESSAGE_BYTES + 1)).decode()
    body = email(sender, attachments=[{"content": big, "filename": "big.bin"}])
    answer = await client.post("/v1/emails", json=body)
    assert answer.status_code == 413, answer.text
    error = answer.json()["error"]
    assert error["type"] == "payload_too_large"
    assert error["fields"][0]["field"] == "message"
    await _nothing_stored(world)


async def test_a_body_larger_than_any_message_is_413_before_it_is_read(
    client: httpx.AsyncClient,
) -> None:
    huge = b'{"text": "' + b"x" * (MAX_MESSAGE_BYTES * 2 + 2 * 1024 * 1024) + b'"}'
    answer = await client.post(
        "/v1/emails", content=huge, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["type"] == "payload_too_large"


async def test_a_chunked_body_larger_than_any_message_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * (64 * 1024)
        yield b'"}'

    answer = await client.post(
        "/v1/emails", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["type"] == "payload_too_large"


async def test_unverified_sender_domain_is_403_with_what_to_do(
    client: httpx.AsyncClient, world: World
) -> None:
    domain = world.test_dns.new_origin("unverified")
    added = await client.post("/v1/domains", json={"name": domain})
    assert added.status_code == 201
    answer = await client.post("/v1/emails", json=email(domain))
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["type"] == "domain_not_verified"
    assert domain in error["message"]
    assert error["fields"][0]["field"] == "from"
    assert error["fields"][0]["message"]  # the hint
    await _nothing_stored(world)


async def test_a_domain_of_another_account_is_not_verified_for_us(
    world: World, sender: str
) -> None:
    async with client_for(world.app(), await world.key("globex")) as globex:
        answer = await globex.post("/v1/emails", json=email(sender))
    assert answer.status_code == 403


async def test_a_batch_over_100_is_422(client: httpx.AsyncClient, sender: str) -> None:
    answer = await client.post("/v1/emails/batch", json=[email(sender)] * 101)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "body"


async def test_batch_problems_name_the_item(client: httpx.AsyncClient, sender: str) -> None:
    bodies = [email(sender), email(sender, subject="a\r\nb"), email(sender, cc=42)]
    answer = await client.post("/v1/emails/batch", json=bodies)
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["[2].cc"]
    # Shape problems come first; once the JSON is right, message problems are named too.
    bodies[2] = email(sender)
    answer = await client.post("/v1/emails/batch", json=bodies)
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["[1].subject"]


async def test_an_idempotency_key_too_long_is_422(client: httpx.AsyncClient, sender: str) -> None:
    answer = await client.post(
        "/v1/emails", json=email(sender), headers={"Idempotency-Key": "k" * 256}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param('"metadata": {"\\ud800": "x"}', "metadata.", id="metadata-key"),
        pytest.param('"headers": {"X-\\ud800": "x"}', "headers.X-\\ud800", id="header-name"),
        pytest.param('"subject": "\\ud800"', "subject", id="subject"),
        pytest.param('"tags": ["\\udfff"]', "tags[0]", id="tag"),
    ],
)
async def test_lone_surrogates_are_422_and_the_answer_is_still_utf8(
    client: httpx.AsyncClient, sender: str, raw: str, field: str
) -> None:
    content = f'{{"from": "a@{sender}", "to": "b@example.test", "text": "x", {raw}}}'
    answer = await client.post(
        "/v1/emails", content=content.encode(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    # Named as the caller wrote it, the surrogate escaped (or replaced, for a dict key).
    assert any(f["field"].startswith(field) for f in answer.json()["error"]["fields"])


async def test_recipients_over_the_cap_are_422_naming_the_first_one_over(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    cap = world.settings.api.max_recipients_per_message
    assert cap == 50  # the documented default
    to = [f"t{i}@example.test" for i in range(30)]
    bcc = [f"b{i}@example.test" for i in range(21)]
    answer = await client.post("/v1/emails", json=email(sender, to=to, bcc=bcc))
    assert answer.status_code == 422
    [problem] = answer.json()["error"]["fields"]
    assert problem["field"] == "bcc[20]"
    assert "at most 50 recipients" in problem["message"]
    batch = [email(sender), email(sender, to=to, bcc=bcc)]
    answer = await client.post("/v1/emails/batch", json=batch)
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["[1].bcc[20]"]
    await _nothing_stored(world)
    exactly = await client.post("/v1/emails", json=email(sender, to=to, bcc=bcc[:20]))
    assert exactly.status_code == 202, exactly.text


async def test_a_list_longer_than_any_cap_is_refused_while_reading_the_json(
    client: httpx.AsyncClient, sender: str
) -> None:
    bcc = ["x@example.test"] * 1001
    answer = await client.post("/v1/emails", json=email(sender, bcc=bcc))
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "bcc"


async def test_a_batch_carries_a_bounded_number_of_recipients_in_all(
    world: World, sender: str
) -> None:
    wide = world.settings.model_copy(
        update={"api": world.settings.api.model_copy(update={"max_recipients_per_message": 1000})}
    )
    services = Services.build(wide, world.store, None, world.clock, master_key=MASTER)
    try:
        app = create_app(services, wide, clock=world.clock, rate_limit=TEST_RATE_LIMIT)
        async with client_for(app, await world.key("acme")) as client:
            bcc = [f"r{i}@example.test" for i in range(1000)]
            batch = [email(sender, bcc=bcc) for _ in range(MAX_BATCH_RECIPIENTS // 1000 + 1)]
            answer = await client.post("/v1/emails/batch", json=batch)
    finally:
        await services.close()
    assert answer.status_code == 422, answer.text
    over = MAX_BATCH_RECIPIENTS // 1001
    # Each message has one "to" then 1000 bcc: the first recipient past the bound is in the
    # bcc of message ``over``.
    [problem] = answer.json()["error"]["fields"]
    assert problem["field"] == f"[{over}].bcc[{MAX_BATCH_RECIPIENTS - over * 1001 - 1}]"
    assert f"at most {MAX_BATCH_RECIPIENTS} recipients" in problem["message"]
    await _nothing_stored(world)
