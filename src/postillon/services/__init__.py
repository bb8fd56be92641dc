"""Services: the use cases the edges (API, CLI, dashboard, submission) call.

- ``keys``: ApiKeyService (create, authenticate, list, revoke API keys).
- ``domains``: DomainService (add, verify, get, list, delete, rotate_key sender domains).
- ``sending``: SendService (validate, check the domain, compose, DKIM-sign, enqueue; or a
  submitted message's own bytes, signed and enqueued the same way).
- ``rate_limit``: per-key token buckets the API and SMTP submission share.
- ``container``: Services, built once by the composition root.
- ``errors``: NotFoundError, DomainNotVerifiedError, IdempotencyConflictError, ...

Services speak in records and views, never HTTP; they reach the engine only through the store.
"""
