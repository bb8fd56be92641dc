"""The SSRF guard: a webhook URL plus the addresses its host resolves to, judged together.

Owns the decision "may we connect there": the URL's checks (``urls.py``), every resolved address
checked (``dns/special_addresses.py``; one bad address refuses the whole target, so a name
cannot mix a public and a private answer), and the operator's allowlist (``[webhooks]
allow_private_networks``), which permits special addresses inside the listed networks. The
result, :class:`VettedTarget`, carries the exact addresses that passed: the sender connects to
those and nothing else, so a DNS answer that changes between check and connect (rebinding)
cannot move the connection. The same check runs at registration and at every send. It must not
do I/O: resolving is the caller's (``sender.py``, ``resolve_and_vet``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from postillon.config.settings import WebhookSettings
from postillon.dns.special_addresses import IPAddress, IPNetwork, is_never_allowed, refusal_reason
from postillon.errors import ConfigError
from postillon.webhooks.errors import UnsafeTargetError
from postillon.webhooks.urls import WebhookUrl, parse_webhook_url

ALLOWLIST_KEY = "webhooks.allow_private_networks"
# A host with more answers than this is not a webhook receiver; bounds the work per check.
MAX_ADDRESSES = 32


class AddressResolver(Protocol):
    """Resolves a host name to its IP addresses (A and AAAA), as text."""

    async def addresses(self, host: str) -> list[str]:
        """Every address of ``host``; raises a PostillonError (or OSError) if it has none."""
        ...


@dataclass(frozen=True)
class VettedTarget:
    """A URL whose host name and addresses passed the guard; connect only to ``addresses``."""

    url: WebhookUrl
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class TargetGuard:
    """The guard with its allowlist; build it with :meth:`from_settings`."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: WebhookSettings) -> TargetGuard:
        """The guard for ``[webhooks]``. Raises ConfigError naming the key for a bad CIDR."""
        networks: list[IPNetwork] = []
        for cidr in settings.allow_private_networks:
            try:
                networks.append(ipaddress.ip_network(cidr, strict=True))
            except ValueError as exc:
                raise ConfigError(f"{ALLOWLIST_KEY}: {cidr!r} is not a network: {exc}") from None
        return cls(tuple(networks))

    def check_url(self, url: str) -> WebhookUrl:
        """The URL's syntactic checks, and its address if the host is a literal.

        Raises UnsafeTargetError. A host name still has to be resolved and :meth:`vet`-ted.
        """
        parsed = parse_webhook_url(url)
        if parsed.address is not None:
            self.check_address(parsed.address, url)
        return parsed

    def check_address(self, address: IPAddress, url: str = "") -> None:
        """Raise UnsafeTargetError unless ``address`` may be connected to."""
        if is_never_allowed(address):
            raise UnsafeTargetError(f"{url!r}: {address} is never a webhook target")
        if any(address in network for network in self.allowed_networks):
            return
        reason = refusal_reason(address)
        if reason is not None:
            raise UnsafeTargetError(f"{url!r}: {address} refused: {reason}")

    def vet(self, url: str, resolved: Iterable[str] = ()) -> VettedTarget:
        """Judge ``url`` with the addresses its host resolved to (ignored for an IP literal).

        Raises UnsafeTargetError if the URL or any address is refused, or there is none.
        """
        parsed = self.check_url(url)
        if parsed.address is not None:
            return VettedTarget(parsed, (parsed.address,))
        addresses = _parse_addresses(url, parsed.host, resolved)
        for address in addresses:
            self.check_address(address, url)
        return VettedTarget(parsed, addresses)

    async def resolve_and_vet(self, url: str, resolver: AddressResolver) -> VettedTarget:
        """:meth:`check_url`, resolve the host with ``resolver``, then :meth:`vet`.

        For registration and for every send. Raises UnsafeTargetError for a refused target; a
        resolver failure propagates (OSError or the resolver's PostillonError: temporary).
        """
        parsed = self.check_url(url)
        if parsed.address is not None:
            return VettedTarget(parsed, (parsed.address,))
        return self.vet(url, await resolver.addresses(parsed.host))


def _parse_addresses(url: str, host: str, resolved: Iterable[str]) -> tuple[IPAddress, ...]:
    texts: Sequence[str] = list(resolved)
    if not texts:
        raise UnsafeTargetError(f"{url!r}: {host} has no address")
    if len(texts) > MAX_ADDRESSES:
        raise UnsafeTargetError(f"{url!r}: {host} has more than {MAX_ADDRESSES} addresses")
    unique: dict[IPAddress, None] = {}
    for text in texts:
        try:
            unique[ipaddress.ip_address(text)] = None
        except ValueError:
            raise UnsafeTargetError(f"{url!r}: {text!r} is not an IP address") from None
    return tuple(unique)
