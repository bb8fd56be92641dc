"""A minimal SMTP client (stdlib smtplib) for the fixtures' self-tests.

Owns: one blocking send per call, run in a thread by the async tests. It is the independent
client that proves the test servers work; it must not use postillon's own SMTP client.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence

# Every self-test conversation ends well within this; a hung server fails the test instead.
CLIENT_TIMEOUT_S = 10.0
CLIENT_EHLO_NAME = "client.test"


def send(
    host: str,
    mail_from: str,
    rcpt_tos: Sequence[str],
    data: bytes,
    *,
    port: int = 25,
    tls_context: ssl.SSLContext | None = None,
    mail_options: Sequence[str] = (),
) -> dict[str, tuple[int, bytes]]:
    """Send one message; STARTTLS first when ``tls_context`` is given.

    Returns smtplib's refused-recipient map; raises smtplib's errors on failure.
    """
    with smtplib.SMTP(
        host, port, local_hostname=CLIENT_EHLO_NAME, timeout=CLIENT_TIMEOUT_S
    ) as client:
        client.ehlo()
        if tls_context is not None:
            client.starttls(context=tls_context)
            client.ehlo()
        return client.sendmail(mail_from, list(rcpt_tos), data, mail_options=list(mail_options))


def ehlo_keywords(host: str, *, port: int = 25) -> set[str]:
    """The EHLO keywords the server at ``host:port`` announces, upper-cased."""
    with smtplib.SMTP(
        host, port, local_hostname=CLIENT_EHLO_NAME, timeout=CLIENT_TIMEOUT_S
    ) as client:
        code, _ = client.ehlo()
        assert code == 250
        return {name.upper() for name in client.esmtp_features}
