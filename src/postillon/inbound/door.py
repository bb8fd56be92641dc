"""The inbound door's decisions: which envelopes the return-path listener takes.

Owns the rules of a public port 25 that is no relay: RCPT is accepted only for one of our
return-path addresses (``bounces+<id>-<tag>@pstbounces.<domain>`` whose tag verifies, or the
untagged address of a message queued before tags), anything else is 550 5.1.1 (refused at RCPT,
so nothing is stored and no bounce of ours is ever generated: never backscatter); a report has
at most :data:`MAX_RCPTS_PER_REPORT` such recipients, a connection at most
``max_reports_per_connection`` reports (then 421); the 250 after DATA comes only after the
report and its effects are committed (a failure answers 451 and the sender retries).
It must not parse reports (reports/) nor decide their effects (services/).
"""

from __future__ import annotations

import structlog

from postillon.services.return_path import ReturnPathService
from postillon.smtp import server_reply as replies
from postillon.smtp.sasl import Credentials
from postillon.smtp.server_events import Hello, MailFrom, MessageData, RcptTo
from postillon.smtp.server_reply import ServerReply
from postillon.transport.server_handler import ConnectionHandler, PeerInfo

log = structlog.get_logger("postillon.inbound")

# A report goes to the one return path of the message it is about; a few more cover a relay
# that merged reports. Beyond that: 452, the client sends the rest in another transaction.
MAX_RCPTS_PER_REPORT = 10

NO_SUCH_USER = replies.reply(550, "5.1.1", "no such user here")
TOO_MANY_REPORTS = replies.reply(421, "4.7.0", "too many messages in one connection")
TOO_MANY_RCPTS = replies.reply(452, "4.5.3", "too many recipients")
NO_AUTH = replies.AUTH_UNAVAILABLE


class InboundDoor:
    """The return path's :class:`~postillon.transport.server_handler.SmtpHandler`."""

    def __init__(self, service: ReturnPathService, *, max_reports_per_connection: int) -> None:
        self.service = service
        self.max_reports = max_reports_per_connection

    def connection(self, peer: PeerInfo) -> ConnectionHandler:
        """The handler of one client connection."""
        return _InboundConnection(self, peer)


class _InboundConnection:
    def __init__(self, door: InboundDoor, peer: PeerInfo) -> None:
        self._door = door
        self._peer = peer
        self._reports = 0
        self._accepted = 0

    async def hello(self, event: Hello) -> ServerReply | None:
        return None

    async def authenticate(self, credentials: Credentials) -> ServerReply | None:
        return NO_AUTH  # never offered: nobody submits mail here

    async def mail_from(self, event: MailFrom) -> ServerReply | None:
        if self._reports >= self._door.max_reports:
            return TOO_MANY_REPORTS
        self._accepted = 0
        return None

    async def rcpt_to(self, event: RcptTo) -> ServerReply | None:
        if self._accepted >= MAX_RCPTS_PER_REPORT:
            return TOO_MANY_RCPTS
        if not await self._door.service.accepts(event.path.address):
            log.info("inbound.rcpt_refused", peer=self._peer.address, rcpt=event.path.address)
            return NO_SUCH_USER
        self._accepted += 1
        return None

    async def message(self, event: MessageData) -> ServerReply | None:
        self._reports += 1
        mail_from = event.envelope.mail_from.address
        for rcpt in event.envelope.rcpt_tos:
            stored = await self._door.service.receive(
                mail_from=mail_from, rcpt_to=rcpt.address, data=event.data, peer=self._peer.address
            )
            log.info(
                "inbound.report",
                id=stored.id,
                kind=stored.kind,
                shape=stored.shape,
                matched=stored.matched,
                message_id=stored.message_id,
                peer=self._peer.address,
            )
        return None

    def tls_started(self) -> None:
        self._accepted = 0
