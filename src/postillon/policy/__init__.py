"""MTA-STS (RFC 8461): record and policy parsing and MX matching (pure), fetch and cache.

Pure (no asyncio, aiohttp or sockets): ``model`` (MtaStsPolicy, NoPolicy, lifetime rules),
``record`` (the ``_mta-sts`` TXT record), ``policy_text`` (the policy file), ``mx_match``
(patterns), ``decision`` (what a policy means for one MX and one TLS outcome).
Adapters: ``fetch`` (aiohttp client for the policy host), ``cache`` (which policy applies now),
``store`` (persistence protocol), ``lookups`` (what we need from DNS), ``errors``.
This package never imports ``postillon.dns``: the engine passes a resolver in.
"""
