"""The OpenAPI document, fuzzed by schemathesis against the app in-process.

Each operation gets a bounded number of generated requests (valid and invalid data) with a
valid key; every answer must be no 5xx and conform to the document (status code, content type,
headers, body schema). Hypothesis runs in a worker thread; each request is sent through httpx's
ASGI transport on the test's own event loop, where the services and their store live.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from postillon.api.rate_limit import RateLimit
from tests.integration.api.conftest import World, client_for

# Bounded: a few examples per operation and mode keep the whole run well under a minute.
EXAMPLES_PER_OPERATION = 40
# One generated request never needs more than this (an RSA key for a domain is the slowest).
REQUEST_TIMEOUT_S = 20.0
UNLIMITED = RateLimit(rate_per_s=1e6, burst=1_000_000)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert set(document["paths"]) == {
        "/v1/emails",
        "/v1/emails/batch",
        "/v1/emails/{email_id}",
        "/v1/domains",
        "/v1/domains/{name}",
        "/v1/domains/{name}/verify",
        "/v1/domains/{name}/rotate-key",
    }
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    # Every error answer is documented with the one error shape, never FastAPI's own.
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.slow
@pytest.mark.timeout(110)
async def test_schemathesis_finds_no_server_error_and_no_schema_violation(world: World) -> None:
    app = world.app(UNLIMITED)
    token = await world.key("fuzz")
    loop = asyncio.get_running_loop()
    schema = schemathesis.openapi.from_dict(app.openapi())
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    auth = {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()

    async with client_for(app) as client:

        def send(case: Any) -> httpx.Response:
            kwargs = case.as_transport_kwargs(base_url="http://api.test", headers=auth)
            request = client.request(
                kwargs["method"],
                kwargs["url"],
                params=kwargs.get("params"),
                headers=kwargs.get("headers"),
                json=kwargs.get("json"),
                content=kwargs.get("data"),
            )
            future = asyncio.run_coroutine_threadsafe(request, loop)
            response = future.result(timeout=REQUEST_TIMEOUT_S)
            statuses[response.status_code] += 1
            return response

        def fuzz(operation: Any, mode: GenerationMode) -> None:
            @given(case=operation.as_strategy(generation_mode=mode, headers=auth))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                case.validate_response(send(case), checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                # An operation without inputs (GET /v1/domains) has no invalid data to send.
                assert mode is GenerationMode.NEGATIVE, operation.label

        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                await asyncio.to_thread(fuzz, operation, mode)
    # The run reached the routes: some requests succeeded, some were refused as invalid.
    assert any(200 <= status < 300 for status in statuses), statuses
    assert statuses[422] > 0, statuses
