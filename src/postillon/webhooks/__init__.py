"""Webhooks: event payloads, Standard Webhooks signing, the SSRF guard, the sender, retry rules.

Owns everything about telling a customer's HTTP endpoint what happened that needs no database:

- ``events.py``      event types, the event record and its JSON body
- ``filters.py``     endpoint event filters (a list of types, or ``*``)
- ``secret.py``      ``whsec_`` secrets (generation, parsing) and rotation with an overlap window
- ``signing.py``     the Standard Webhooks signature and the three ``webhook-*`` headers
- ``addresses.py``   which IP addresses a webhook may never reach (pure)
- ``urls.py``        which URLs are acceptable at all: scheme, userinfo, numeric host forms (pure)
- ``guard.py``       the SSRF guard: URL + resolved addresses + allowlist -> vetted target
- ``sender.py``      one HTTP POST (aiohttp) to the vetted addresses only, no redirects
- ``retry_after.py`` the ``Retry-After`` header (pure)
- ``retry.py``       the retry, give-up and disable rules (pure)
- ``result.py``      the outcome of one attempt, for the delivery log
- ``attempt.py``     one delivery attempt: sign, send, decide
- ``errors.py``      UnsafeTargetError, InvalidSecretError, InvalidFilterError (all permanent)

It must not touch the store (the outbox and the delivery log are written by the caller from the
results returned here) and must not import the API or services.
"""
