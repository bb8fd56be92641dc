"""Services: the use cases the edges (API, CLI, dashboard, submission) call.

- ``keys``: ApiKeyService (create, authenticate, list, revoke API keys).
- ``domains``: DomainService (add, verify, get, list, delete, rotate_key sender domains).
- ``sending``: SendService (validate, check the domain, compose, DKIM-sign, enqueue).
- ``container``: Services, built once by the composition root.
- ``errors``: NotFoundError, DomainNotVerifiedError, IdempotencyConflictError, ...

Services speak in records and views, never HTTP; they reach the engine only through the store.
"""
