"""Types of the server-factory fixtures in tests/conftest.py, for annotating test parameters.

Owns only the call signatures (Protocols); the fixtures themselves live in tests/conftest.py.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import Protocol

from tests.support.certs import CertFiles
from tests.support.postfix import PostfixSmtpd
from tests.support.receivers import DataHandler, RcptHandler, Receiver
from tests.support.smtp_sink import SmtpSink

# Test MX hosts listen on loopback: every test node allows delivery there
# ([delivery] allow_private_destinations; production refuses internal networks).
LOOPBACK_DESTINATIONS = ("127.0.0.0/8",)


class ReceiverFactory(Protocol):
    """``await smtp_receiver("127.0.0.41", tls_context=...)``: a started Receiver."""

    async def __call__(
        self,
        host: str,
        *,
        port: int = 25,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        hostname: str = "mx.test",
        rcpt_handler: RcptHandler | None = None,
        data_handler: DataHandler | None = None,
    ) -> Receiver: ...


class SmtpSinkFactory(Protocol):
    """``await smtp_sink("127.0.0.44", options=["-f", "RCPT"], capture=True)``: a started sink.

    With ``capture=True`` transactions are dumped under the test's tmp_path.
    """

    async def __call__(
        self,
        host: str,
        port: int = 25,
        *,
        options: Sequence[str] = (),
        capture: bool = False,
    ) -> SmtpSink: ...


class PostfixFactory(Protocol):
    """``postfix_smtpd("127.0.0.45", tls=pki.cert_files("127.0.0.45"))``: a running Postfix.

    Instances live for the whole session; asking again for the same host with the same settings
    returns the running one (compare ``delivered_count()`` before and after), other settings
    restart it (``pki.cert_files`` returns the same files each time; ``pki.issue`` new ones).
    ``main_cf`` adds main.cf parameters, e.g. ``{"smtpd_recipient_limit": "50"}``.
    """

    def __call__(
        self,
        host: str,
        port: int = 25,
        *,
        tls: CertFiles | None = None,
        relay_to: tuple[str, int] | None = None,
        myhostname: str = "postfix.test",
        main_cf: Mapping[str, str] | None = None,
    ) -> PostfixSmtpd: ...
