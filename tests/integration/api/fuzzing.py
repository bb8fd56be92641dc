"""Schemathesis against the app in-process: the one fuzz loop both OpenAPI tests share.

Hypothesis runs in a worker thread; each generated request goes through httpx's ASGI transport
on the test's own event loop, where the services and their store live. Every answer must be no
5xx and conform to the document (status code, content type, headers, body schema).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# One generated request never needs more than this (an RSA key for a domain is the slowest).
REQUEST_TIMEOUT_S = 20.0
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


async def fuzz_operations(
    client: httpx.AsyncClient, operations: Sequence[Any], token: str | None, examples: int
) -> Counter[int]:
    """Send ``examples`` valid and as many invalid requests per operation; the statuses seen.

    ``token`` None sends every request without a key.
    """
    loop = asyncio.get_running_loop()
    auth = {} if token is None else {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()

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
        response = asyncio.run_coroutine_threadsafe(request, loop).result(REQUEST_TIMEOUT_S)
        statuses[response.status_code] += 1
        return response

    def fuzz(operation: Any, mode: GenerationMode) -> None:
        @given(case=operation.as_strategy(generation_mode=mode, headers=auth))
        @settings(
            max_examples=examples,
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
            # An operation without inputs (a plain GET list) has no invalid data to send.
            assert mode is GenerationMode.NEGATIVE, operation.label

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            await asyncio.to_thread(fuzz, operation, mode)
    return statuses
