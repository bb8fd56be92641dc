"""The delivery engine: scheduler, connection pool, attempts, engine loop, graceful drain."""
