"""DNS: the async resolver (dnspython) and the pure MX walk (preference, implicit MX, null MX).

Modules, pure first:

- ``records``: RecordType, Status, MxRecord, TxtRecord, Answer (lookups as values).
- ``errors``: DNS errors with the reply and enhanced status codes they imply.
- ``nameservers``: the ``[dns] nameservers`` "address:port" form.
- ``cache``: TtlCache, TTL expiry on the injected clock, bounded.
- ``special_addresses``: private, loopback, link-local, reserved ... networks and why (RFC 6890).
- ``destinations``: DestinationFilter, which MX addresses we may deliver to (allowlist).
- ``mx``: MxWalk, the RFC 5321 §5.1 routing decision; Route, MxHost, LocalIdentity.
- ``resolver``: Resolver, dnspython against the configured servers, cached (adapter).
- ``router``: MxRouter, the short I/O loop that runs an MxWalk on a Resolver.
"""
