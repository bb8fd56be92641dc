"""The submission listeners built from ``[submission]``: STARTTLS on ``listen`` (587) and
implicit TLS on ``implicit_tls_listen`` (465, RFC 8314), one certificate for both.

Owns turning settings into :class:`SmtpListener` objects for the :class:`SubmissionDoor`,
starting them (an address that cannot be bound stops startup, naming it), reloading the
certificate (SIGHUP) and closing them. Must not decide what the door accepts.
"""

from __future__ import annotations

import socket

from postillon.clock import Clock
from postillon.config.settings import Settings
from postillon.errors import ConfigError
from postillon.services.container import Services
from postillon.services.rate_limit import RateLimiter
from postillon.smtp.sasl import Mechanism
from postillon.smtp.server_session import ServerConfig
from postillon.submission.auth_throttle import AuthThrottle
from postillon.submission.door import SubmissionDoor
from postillon.transport.server_connection import SessionTimeouts
from postillon.transport.server_tls import ServerTls
from postillon.transport.smtp_listener import ListenerConfig, SmtpListener, parse_listen

# Seconds a session on the way out may take to finish its command (e.g. a commit) at shutdown.
CLOSE_GRACE_S = 5.0


class SubmissionServer:
    """Every submission listener of one node."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        limiter: RateLimiter,
        clock: Clock,
        *,
        enabled: bool = True,
    ) -> None:
        """Listeners for ``settings.submission``; none when ``enabled`` is False (a node
        whose role serves no API) or no address is configured. Raises ConfigError when the
        certificate or a listen address is unusable."""
        sub = settings.submission
        self.listeners: list[SmtpListener] = []
        if not enabled or not (sub.listen or sub.implicit_tls_listen):
            return
        assert sub.cert_file is not None  # the settings refuse listeners without one
        assert sub.key_file is not None
        self.tls = ServerTls(sub.cert_file, sub.key_file)
        hostname = sub.hostname or socket.getfqdn()
        door = SubmissionDoor(
            hostname=hostname,
            keys=services.keys,
            sending=services.sending,
            limiter=limiter,
            throttle=AuthThrottle(
                clock, max_failures=sub.auth_failures, window_s=sub.auth_failure_window_s
            ),
        )
        session = ServerConfig(
            hostname=hostname,
            max_message_octets=settings.api.max_message_bytes,
            max_recipients=sub.max_recipients,
            max_errors=sub.max_errors,
            tls_available=True,
            auth_mechanisms=(Mechanism.PLAIN, Mechanism.LOGIN),
            auth_needs_tls=True,
            auth_required=True,
        )
        timeouts = SessionTimeouts(idle_s=sub.idle_timeout_s, total_s=sub.session_timeout_s)
        for key, addresses, implicit in (
            ("submission.listen", sub.listen, False),
            ("submission.implicit_tls_listen", sub.implicit_tls_listen, True),
        ):
            if not addresses:
                continue
            config = ListenerConfig(
                addresses=tuple(_address(key, text) for text in addresses),
                session=session,
                implicit_tls=implicit,
                timeouts=timeouts,
                max_per_address=sub.max_connections_per_address,
            )
            self.listeners.append(SmtpListener(config, door, self.tls))

    async def start(self) -> None:
        """Bind every listener; raises ConfigError naming an address that cannot be bound."""
        for listener in self.listeners:
            try:
                await listener.start()
            except OSError as error:
                await self.close()
                where = ", ".join(f"{h}:{p}" for h, p in listener.config.addresses)
                raise ConfigError(f"submission: cannot listen on {where}: {error}") from error

    def reload_tls(self) -> None:
        """Re-read the certificate and key (SIGHUP)."""
        for listener in self.listeners[:1]:  # they share one ServerTls
            listener.reload_tls()

    async def close(self) -> None:
        """Stop accepting and end the sessions (those mid-command get a short grace)."""
        for listener in self.listeners:
            await listener.close(CLOSE_GRACE_S)


def _address(key: str, text: str) -> tuple[str, int]:
    try:
        return parse_listen(text)
    except ValueError as error:
        raise ConfigError(f"{key}: {error}") from error
