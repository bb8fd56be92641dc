"""Which MX addresses postillon may connect to: the public Internet, plus an allowlist.

Owns the rule that keeps a tenant from pointing a domain's MX at an internal network (10.x,
127.x, 169.254.x, CGNAT, ...) and reading the replies back through the API: an MX address in
any special-purpose network (``special_addresses``) is refused unless it lies in a network of
``[delivery] allow_private_destinations``. Unspecified, multicast and broadcast addresses are
refused whatever the allowlist says. Pure: must not do I/O or route.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from postillon.config.settings import DeliverySettings
from postillon.dns.special_addresses import IPNetwork, is_never_allowed, refusal_reason
from postillon.errors import ConfigError

ALLOWLIST_KEY = "delivery.allow_private_destinations"


@dataclass(frozen=True)
class DestinationFilter:
    """The allowlist of special networks; empty (the default) allows only public addresses."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, delivery: DeliverySettings) -> DestinationFilter:
        """The filter for ``[delivery]``. Raises ConfigError naming the key for a bad CIDR."""
        return cls.allowing(delivery.allow_private_destinations)

    @classmethod
    def allowing(cls, cidrs: Iterable[str]) -> DestinationFilter:
        """A filter allowing the networks ``cidrs`` besides the public Internet."""
        networks: list[IPNetwork] = []
        for cidr in cidrs:
            try:
                networks.append(ipaddress.ip_network(cidr, strict=True))
            except ValueError as exc:
                raise ConfigError(f"{ALLOWLIST_KEY}: {cidr!r} is not a network: {exc}") from None
        return cls(tuple(networks))

    def refusal(self, address: str) -> str | None:
        """Why mail may not go to ``address``, or None when it may."""
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return "is not an IP address"
        if is_never_allowed(parsed):
            return "is never a unicast destination"
        if any(parsed in network for network in self.allowed_networks):
            return None
        return refusal_reason(parsed)
