"""Concurrent API sends share commits (grouped below the send service: storage/ingest_groups.py
and the single writer), each answered only once its own message and its idempotency key are
stored."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa

from postillon.storage.schema import idempotency_keys
from tests.integration.api.conftest import World, email

REQUESTS = 20


async def test_concurrent_sends_share_commits(
    client: httpx.AsyncClient, world: World, sender: str
) -> None:
    writes = world.store.engines.writes
    commits_before, units_before = writes.commits, writes.units

    async def send(index: int) -> httpx.Response:
        headers = {"Idempotency-Key": f"group-{index}"}
        return await client.post(
            "/v1/emails", json=email(sender, subject=f"group {index}"), headers=headers
        )

    answers = await asyncio.gather(*(send(i) for i in range(REQUESTS)))

    assert [a.status_code for a in answers] == [202] * REQUESTS, answers[0].text
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == REQUESTS
    for message_id in ids:
        assert await world.store.get_message(message_id) is not None
    async with world.store.engines.reader.connect() as connection:
        keys = (await connection.execute(sa.select(idempotency_keys.c.key))).scalars().all()
    assert {f"group-{i}" for i in range(REQUESTS)} <= set(keys)
    # The sends were stored in groups (fewer units of the writer than requests), and the
    # groups shared commits.
    assert writes.units - units_before < REQUESTS
    assert writes.commits - commits_before < REQUESTS
