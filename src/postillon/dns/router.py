"""The I/O loop around the MX walk: asks the resolver what :class:`MxWalk` needs.

Owns: running the walk's queries (address lookups concurrently) and nothing else; every
routing decision is in ``mx.py``. It must not interpret answers itself.
"""

from __future__ import annotations

import asyncio
import random

from postillon.dns.destinations import DestinationFilter
from postillon.dns.mx import LocalIdentity, MxWalk, Route
from postillon.dns.records import RecordType
from postillon.dns.resolver import Resolver


class MxRouter:
    """Finds the route for a recipient domain through a :class:`Resolver`.

    ``destinations`` says which MX addresses may be used (default: public addresses only).
    """

    def __init__(
        self,
        resolver: Resolver,
        identity: LocalIdentity,
        rng: random.Random,
        destinations: DestinationFilter | None = None,
    ) -> None:
        self._resolver = resolver
        self._identity = identity
        self._rng = rng
        self._destinations = destinations or DestinationFilter()

    async def route(self, domain: str) -> Route:
        """The MX hosts for ``domain``, in the order to try them.

        Raises a :class:`postillon.dns.errors.DnsTemporaryError` (defer) or
        :class:`postillon.dns.errors.DnsPermanentError` (bounce), with the status it implies.
        """
        walk = MxWalk(domain, self._identity, self._rng, self._destinations)
        while queries := walk.next_queries():
            mx_queries = [q for q in queries if q.rdtype is RecordType.MX]
            for query in mx_queries:
                walk.receive_mx(await self._resolver.lookup_mx(query.name))
            answers = await asyncio.gather(
                *(
                    self._resolver.lookup_addresses(q.name, q.rdtype)
                    for q in queries
                    if q.rdtype is not RecordType.MX
                )
            )
            for answer in answers:
                walk.receive_addresses(answer)
        return walk.route()
