"""Webhooks: event payloads, Standard Webhooks signing, the SSRF guard, the sender, retry rules,
endpoints and the dispatcher.

Owns everything about telling a customer's HTTP endpoint what happened:

- ``events.py``      event types, the event record and its JSON body
- ``filters.py``     endpoint event filters (a list of types, or ``*``)
- ``secret.py``      ``whsec_`` secrets (generation, parsing) and rotation with an overlap window
- ``signing.py``     the Standard Webhooks signature and the three ``webhook-*`` headers
- (``dns/special_addresses.py`` holds which IP addresses a webhook may never reach)
- ``urls.py``        which URLs are acceptable at all: scheme, userinfo, numeric host forms (pure)
- ``guard.py``       the SSRF guard: URL + resolved addresses + allowlist -> vetted target
- ``sender.py``      one HTTP POST (aiohttp) to the vetted addresses only, no redirects
- ``retry_after.py`` the ``Retry-After`` header (pure)
- ``retry.py``       the retry, give-up and disable rules (pure)
- ``result.py``      the outcome of one attempt, for the delivery log
- ``attempt.py``     one delivery attempt: sign, send, decide
- ``errors.py``      UnsafeTargetError, InvalidSecretError, InvalidFilterError (all permanent)
- ``secret_box.py``  endpoint secrets sealed at rest (AES-GCM under a key derived from the master)
- ``endpoints.py``   stored endpoints as rings, filters and public views (pure)
- ``endpoint_errors.py`` EndpointNotFoundError, EventNotFoundError, UnresolvableHostError
- ``service.py``     the endpoint use cases: create, list, get, update, delete, rotate, log,
                     replay, test event (over storage/webhooks_sql.py, webhook_deliveries_sql.py)
- ``dispatcher.py``  the loop: outbox -> fan-out -> leased sends -> log, retries, disabling

The modules above ``secret_box.py`` do no store I/O; only ``service.py`` and ``dispatcher.py``
reach the store, and only through storage/ modules. None imports the API or services.
"""
