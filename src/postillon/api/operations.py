"""Routes for operators and first visitors: probes, metrics, ``/`` and the interactive docs.

``GET /healthz`` answers while the process serves HTTP; ``GET /readyz`` asks the node whether
the store answers, the schema is current and the delivery loop runs (503 with the problems
otherwise); ``GET /metrics`` is the Prometheus exposition; ``GET /`` sends a browser to the
dashboard and a program to the links; ``GET /docs`` is Swagger UI over ``/openapi.json`` with
its assets served from the installed ``fastapi-offline`` package (no CDN: the docs work on a
machine without internet). None of these is in the OpenAPI document or needs a key.
Must not reach the store itself: the node's callbacks do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from postillon.metrics import CONTENT_TYPE

DOCS_ASSETS_PATH = "/docs/assets"
DASHBOARD_PATH = "/dashboard"


@dataclass(frozen=True)
class Operations:
    """What the node answers for: readiness problems (none: ready) and the metrics text
    (None: metrics are served on their own listener, not here)."""

    readiness: Callable[[], Awaitable[list[str]]]
    metrics: Callable[[], Awaitable[bytes]] | None = None


def docs_assets_dir() -> Path:
    """Swagger UI's JavaScript and CSS as the ``fastapi-offline`` package ships them."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def install_operations(app: FastAPI, operations: Operations) -> None:
    """Add the probes, ``/metrics`` (when served here), ``/`` and ``/docs`` to ``app``."""
    app.include_router(_router(operations))
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=docs_assets_dir()), name="docs-assets")


def metrics_app(metrics: Callable[[], Awaitable[bytes]]) -> FastAPI:
    """An app serving only ``/metrics``, for ``[metrics] listen``."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(_router(Operations(readiness=_always_ready, metrics=metrics), docs=False))
    return app


async def _always_ready() -> list[str]:
    return []


def _router(operations: Operations, *, docs: bool = True) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if operations.metrics is not None:
        render = operations.metrics

        @router.get("/metrics")
        async def metrics() -> Response:
            return Response(await render(), media_type=CONTENT_TYPE)

    if not docs:
        return router

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        problems = await operations.readiness()
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get("/", response_model=None)
    async def root(request: Request) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(f"{DASHBOARD_PATH}/", status_code=303)
        return JSONResponse(
            {"dashboard": f"{DASHBOARD_PATH}/", "docs": "/docs", "openapi": "/openapi.json"}
        )

    @router.get("/docs")
    async def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="postillon API",
            swagger_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_PATH}/favicon.png",
        )

    return router
