"""Where policies outlive the process: the :class:`PolicyStore` protocol and an in-memory one.

Owns: the persistence contract of the policy cache, keyed by recipient domain only. It must not
decide freshness (the cache does) or know about SQL (the storage layer implements the protocol).
"""

from __future__ import annotations

from typing import Protocol

from postillon.policy.model import MtaStsPolicy


class PolicyStore(Protocol):
    """Saves and loads the last good policy of each recipient domain."""

    async def load(self, domain: str) -> MtaStsPolicy | None:
        """The policy last saved for ``domain`` (lower-case, no trailing dot), expired or not."""
        ...

    async def save(self, policy: MtaStsPolicy) -> None:
        """Keep ``policy`` as the one for ``policy.domain``, replacing any earlier one."""
        ...


class MemoryPolicyStore:
    """A :class:`PolicyStore` in a dict: for tests and for running without a database."""

    def __init__(self) -> None:
        self._policies: dict[str, MtaStsPolicy] = {}

    async def load(self, domain: str) -> MtaStsPolicy | None:
        return self._policies.get(domain)

    async def save(self, policy: MtaStsPolicy) -> None:
        self._policies[policy.domain] = policy
