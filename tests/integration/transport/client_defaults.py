"""What every transport integration test sends with: our EHLO name, a message, short timeouts.

Addresses: aiosmtpd 127.0.0.11-18, refused 19, Postfix smtpd 20-21, smtp-sink 22-28, source 29.
"""

from __future__ import annotations

from postillon.config.settings import SmtpTimeouts

HELO = "client.postillon.test"
MESSAGE = b"From: a@src.test\r\nTo: b@dst.test\r\nSubject: hi\r\n\r\nhello\r\n.leading dot\r\n"
# Short timeouts: a failing test fails in seconds, not the RFC's minutes.
TIMEOUTS = SmtpTimeouts(
    connect_s=5, greeting_s=5, ehlo_s=5, starttls_s=5, mail_s=5, rcpt_s=5, data_init_s=5,
    data_block_s=5, final_dot_s=5, rset_s=5, quit_s=2,
)  # fmt: skip
