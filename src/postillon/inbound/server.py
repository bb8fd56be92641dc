"""The return path's listener, built from ``[inbound]`` settings on the shared SMTP core.

Owns turning settings into a :class:`SmtpListener`: addresses, our name in the greeting
(``delivery.helo_name``, the host the return-path MX points at), SIZE, STARTTLS when a
certificate is configured, connection limits and timeouts. No AUTH is offered.
It must not decide what is accepted (door.py does).
"""

from __future__ import annotations

from postillon.config.settings import Settings
from postillon.inbound.door import InboundDoor
from postillon.services.return_path import ReturnPathService
from postillon.smtp.server_session import ServerConfig
from postillon.transport.server_connection import SessionTimeouts
from postillon.transport.server_tls import ServerTls
from postillon.transport.smtp_listener import ListenerConfig, SmtpListener, parse_listen


def build_inbound_listener(settings: Settings, service: ReturnPathService) -> SmtpListener | None:
    """The listener ``[inbound]`` describes, not started; None when ``listen`` is empty.
    Raises ConfigError when the certificate or key cannot be loaded."""
    inbound = settings.inbound
    if not inbound.listen:
        return None
    tls = None
    if inbound.cert_file is not None and inbound.key_file is not None:
        tls = ServerTls(inbound.cert_file, inbound.key_file)
    config = ListenerConfig(
        addresses=tuple(parse_listen(item) for item in inbound.listen),
        session=ServerConfig(
            hostname=settings.delivery.helo_name,
            max_message_octets=inbound.max_message_bytes,
            tls_available=tls is not None,
        ),
        timeouts=SessionTimeouts(idle_s=inbound.idle_timeout_s, total_s=inbound.total_timeout_s),
        max_per_address=inbound.max_connections_per_address,
        max_connections=inbound.max_connections,
    )
    door = InboundDoor(service, max_reports_per_connection=inbound.max_reports_per_connection)
    return SmtpListener(config, door, tls)
