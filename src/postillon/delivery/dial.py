"""How the engine opens SMTP sessions: our transport, with the settings of this node.

Owns the choice of source address (round robin over ``delivery.bind_addresses``) and the
mapping of settings onto :meth:`SmtpConnection.open`. Must not decide which MX to dial.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from postillon.clock import Clock
from postillon.config.settings import Settings
from postillon.delivery.attempt import DeliveryConnection, Dialer
from postillon.transport.connection import SmtpConnection
from postillon.transport.tls import Authenticator, TlsMode


def source_address_picker(settings: Settings) -> Callable[[], str | None]:
    """Round robin over the configured bind addresses (None: let the kernel choose)."""
    addresses = settings.delivery.bind_addresses
    if not addresses:
        return lambda: None
    cycle = itertools.cycle(addresses)
    return lambda: next(cycle)


def smtp_dialer(settings: Settings, clock: Clock) -> Dialer:
    """A dialer that opens :class:`SmtpConnection` sessions to MX hosts."""
    delivery = settings.delivery

    async def dial(
        ip: str,
        mx_host: str,
        tls_mode: TlsMode,
        source: str | None,
        authenticator: Authenticator | None = None,
    ) -> DeliveryConnection:
        return await SmtpConnection.open(
            ip,
            delivery.smtp_port,
            helo_name=delivery.helo_name,
            tls_mode=tls_mode,
            timeouts=delivery.timeouts,
            source_address=source,
            ca_file=settings.tls.ca_file,
            server_name=mx_host,
            clock=clock,
            authenticator=authenticator,
        )

    return dial
