"""The one error tree of postillon.

Every error postillon raises on purpose derives from :class:`PostillonError` and answers one
question: is it worth trying again later (``is_transient``)? The delivery engine turns that
answer into "defer" or "bounce"; the edges turn it into a 4xx/5xx.

    PostillonError                       is_transient
    ├── TemporaryError                   True   (defer, retry with backoff)
    │   ├── ConnectError                 True   can't reach the host; try the next MX
    │   ├── ProtocolError                True   the peer broke SMTP (limits, bad reply)
    │   ├── TimeoutPhaseError            True   a phase ran past its timeout
    │   └── TlsError                     True   handshake or verification failed
    ├── PermanentError                   False  (bounce, never retry)
    └── ConfigError                      False  a bad setting, naming the bad key

Subsystems add their own subclasses (DNS, storage, MTA-STS) under the two branches; a caller
never needs to know more than ``is_transient`` to decide, and ``str(error)`` to report.
"""

from __future__ import annotations


class PostillonError(Exception):
    """Root of every error postillon raises on purpose."""

    is_transient: bool = True


class TemporaryError(PostillonError):
    """Worth another try later: the message is deferred, not bounced."""

    is_transient = True


class PermanentError(PostillonError):
    """Retrying will not help: the recipient is bounced."""

    is_transient = False


class ConnectError(TemporaryError):
    """The TCP connection could not be opened (refused, unreachable, timed out)."""


class ProtocolError(TemporaryError):
    """The peer violated SMTP or one of our safety limits (reply too long, garbage, EOF)."""


class TimeoutPhaseError(TemporaryError):
    """A protocol phase took longer than its configured timeout."""

    def __init__(self, phase: str, timeout_s: float) -> None:
        super().__init__(f"timed out after {timeout_s:g}s waiting for {phase}")
        self.phase = phase
        self.timeout_s = timeout_s


class TlsError(TemporaryError):
    """The TLS handshake failed or the certificate did not verify where it had to."""


class ConfigError(PostillonError):
    """A setting is missing, unknown or invalid; the message names the key."""

    is_transient = False
