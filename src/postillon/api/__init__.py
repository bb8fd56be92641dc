"""The HTTP API: FastAPI in postillon's own event loop, over the services.

- ``application``: create_app(services, settings) -> FastAPI (routes, error shape, limits).
- ``server``: ApiServer and serve_api(app, settings, stop), uvicorn on ``[api] listen``.
- ``routes``: one module per resource (``emails``, ``domains``).
- ``context``: authentication (Bearer key) and the per-key rate limit, as a dependency.
- ``problems``, ``error_handlers``, ``field_paths``, ``openapi_errors``: the one error shape.
- ``email_schema``, ``email_input``, ``email_views``, ``domain_views``: JSON in and out.
- ``rate_limit``: token buckets (pure); ``body_limit``: 413 before a body is read.

Routes call services only; they never touch the store, DNS or the engine.
"""

from postillon.api.application import create_app
from postillon.api.server import ApiServer, serve_api

__all__ = ["ApiServer", "create_app", "serve_api"]
