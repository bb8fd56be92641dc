"""The inbound return path: an SMTP door on the shared server core that takes bounces and
complaints sent to our return-path addresses, and nothing else.

- ``door``: :class:`InboundDoor`, the decisions (RCPT only for our tagged return paths,
  550 5.1.1 otherwise; bounded reports per connection; 250 only after the commit).
- ``server``: :func:`build_inbound_listener`, the listener from ``[inbound]`` settings.
"""

from postillon.inbound.door import InboundDoor
from postillon.inbound.server import build_inbound_listener

__all__ = ["InboundDoor", "build_inbound_listener"]
