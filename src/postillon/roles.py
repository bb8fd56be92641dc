"""What a node runs: ``postillon serve --role api|worker|all``.

Owns the roles and what each one starts, so API nodes and delivery nodes can scale apart on one
PostgreSQL database. ``api``: HTTP API, dashboard and SMTP submission (the edges that enqueue);
no delivery engine, no webhook dispatcher. ``worker``: delivery engine and webhook dispatcher
(the outbox is claimed under a lease, so one node sends each event); no listening socket.
``all`` (the default): both, the single-machine setup. Every role migrates at startup (under
the migration lock). The CLI refuses unknown names (a click choice). It must not start
anything itself (app.py does).
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A node's role."""

    API = "api"
    WORKER = "worker"
    ALL = "all"

    @property
    def runs_api(self) -> bool:
        """Whether this node serves the HTTP API, the dashboard and SMTP submission."""
        return self in (Role.API, Role.ALL)

    @property
    def runs_delivery(self) -> bool:
        """Whether this node runs the delivery engine and the webhook dispatcher."""
        return self in (Role.WORKER, Role.ALL)
