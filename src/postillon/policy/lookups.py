"""What the policy layer needs from DNS, as protocols the engine fills with the real resolver.

Owns: the two lookup shapes (TXT strings, host addresses). It must not implement a resolver:
``postillon.dns`` does, and the policy layer never imports it.
"""

from __future__ import annotations

from typing import Protocol


class TxtLookup(Protocol):
    """Looks up TXT records."""

    async def txt(self, name: str) -> list[str]:
        """The TXT records at ``name``, one string per record (its character-strings joined).

        Returns [] when the name or the record type does not exist (NXDOMAIN, NODATA); raises a
        temporary :class:`postillon.errors.PostillonError` when the answer is unknown (SERVFAIL,
        timeout).
        """
        ...


class AddressLookup(Protocol):
    """Resolves a host name to IP addresses."""

    async def addresses(self, host: str) -> list[str]:
        """The IPv4 and IPv6 addresses of ``host`` as text; [] when it has none.

        Raises a temporary :class:`postillon.errors.PostillonError` when the answer is unknown.
        """
        ...
