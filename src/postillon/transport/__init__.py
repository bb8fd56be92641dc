"""asyncio shell around the sans-I/O SMTP core: streams, STARTTLS, TlsInfo, per-phase timeouts.

Public API: :class:`SmtpConnection` (``open``, ``send_transaction``, ``reset``, ``close``,
``is_usable``, ``tls``, ``transcript``), :class:`TlsMode`, :class:`TlsInfo`.
"""

from postillon.transport.connection import SmtpConnection
from postillon.transport.tls import TlsInfo, TlsMode

__all__ = ["SmtpConnection", "TlsInfo", "TlsMode"]
