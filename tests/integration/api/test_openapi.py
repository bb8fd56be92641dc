"""The OpenAPI document, fuzzed by schemathesis against the app in-process.

Each operation gets a bounded number of generated requests (valid and invalid data) with a
valid key; every answer must be no 5xx and conform to the document (tests/integration/api/
fuzzing.py runs the loop).
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from schemathesis.core.result import Ok

from postillon.api.body_limit import max_body_bytes
from postillon.api.rate_limit import RateLimit
from tests.integration.api.conftest import World, client_for
from tests.integration.api.fuzzing import fuzz_operations

# Bounded: a few examples per operation and mode keep the whole run well under a minute.
EXAMPLES_PER_OPERATION = 40
UNLIMITED = RateLimit(rate_per_s=1e6, burst=1_000_000)


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert set(document["paths"]) == {
        "/v1/emails",
        "/v1/emails/batch",
        "/v1/emails/{email_id}",
        "/v1/emails/{email_id}/cancel",
        "/v1/domains",
        "/v1/domains/{name}",
        "/v1/domains/{name}/verify",
        "/v1/domains/{name}/rotate-key",
        "/v1/suppressions",
    }
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    # Every error answer is documented with the one error shape, never FastAPI's own.
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.slow
@pytest.mark.timeout(110)
async def test_schemathesis_finds_no_server_error_and_no_schema_violation(world: World) -> None:
    app = world.app(UNLIMITED)
    token = await world.key("fuzz")
    schema = schemathesis.openapi.from_dict(app.openapi())
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    async with client_for(app) as client:
        statuses = await fuzz_operations(client, operations, token, EXAMPLES_PER_OPERATION)
    # The run reached the routes: some requests succeeded, some were refused as invalid.
    assert any(200 <= status < 300 for status in statuses), statuses
    assert statuses[422] > 0, statuses


@pytest.mark.slow
@pytest.mark.timeout(110)
async def test_schemathesis_without_a_key_meets_only_401(world: World) -> None:
    app = world.app(UNLIMITED)
    schema = schemathesis.openapi.from_dict(app.openapi())
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    async with client_for(app) as client:
        statuses = await fuzz_operations(client, operations, None, EXAMPLES_PER_OPERATION // 4)
    assert set(statuses) == {401}, statuses


async def test_every_operation_refuses_an_oversized_body_with_413(world: World) -> None:
    app = world.app(UNLIMITED)
    oversized = b"{" + b" " * max_body_bytes(world.settings.api.max_message_bytes) + b"}"
    document = app.openapi()
    async with client_for(app, await world.key("big")) as client:
        for path, operations in document["paths"].items():
            for method in operations:
                if method not in ("post", "patch", "put"):
                    continue
                url = path.replace("{email_id}", "em_x").replace("{name}", "example.com")
                answer = await client.request(
                    method, url, content=oversized, headers={"Content-Type": "application/json"}
                )
                assert answer.status_code == 413, (method, path, answer.text)
                assert answer.json()["error"]["type"] == "payload_too_large"
