"""Bounce, complaint and auto-reply texts as the common MTAs and mailbox providers write them.

Written for these tests from the public descriptions of each writer's format (RFC 3464 / 5965 /
3834 and the shapes ops people document for Postfix, Exim, qmail, Sendmail, Exchange, Gmail,
Yahoo, Domino, Courier); no real mail is copied. Each case: the raw message, and what reading it
must give (kind, shape, the recipient and its action and status).
"""

from __future__ import annotations

from dataclasses import dataclass

RETURN_PATH = "bounces+01JXAMPLE0000000000000000@pstbounces.example.com"
ORIGINAL = (
    f"Return-Path: <{RETURN_PATH}>\n"
    "From: Shop <shop@example.com>\n"
    "To: bob@example.net\n"
    "Subject: Your order\n"
    "Message-ID: <01JXAMPLE0000000000000000@example.com>\n"
    "Date: Sat, 05 Dec 2026 10:00:00 +0000\n"
)


@dataclass(frozen=True)
class Case:
    """A message and what its reading must give."""

    raw: str
    kind: str
    shape: str
    address: str | None = "bob@example.net"
    action: str | None = "failed"
    status: str | None = None
    diagnostic_has: str = ""

    @property
    def data(self) -> bytes:
        return self.raw.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _report(report_type: str, human: str, machine_type: str, machine: str, returned: str) -> str:
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
        "To: " + RETURN_PATH + "\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="B0"\n\n'
        "This is a MIME-encapsulated message.\n\n"
        "--B0\nContent-Type: text/plain; charset=us-ascii\n\n"
        f"{human}\n"
        f"--B0\nContent-Type: {machine_type}\n\n{machine}\n"
        f"--B0\n{returned}\n--B0--\n"
    )


_RFC822 = "Content-Type: message/rfc822\n\n" + ORIGINAL + "\nHello Bob\n"
_HEADERS = "Content-Type: text/rfc822-headers\n\n" + ORIGINAL


def _plain(sender: str, subject: str, body: str, extra: str = "") -> str:
    return (
        f"From: {sender}\nTo: {RETURN_PATH}\nSubject: {subject}\n{extra}"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body
    )


POSTFIX_DSN = Case(
    _report(
        "delivery-status",
        "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you "
        "that your message could not\nbe delivered to one or more recipients.\n\n"
        "<bob@example.net>: host mail.example.net[192.0.2.5] said: 550 5.1.1\n"
        "    <bob@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO\n"
        "    command)\n",
        "message/delivery-status",
        "Reporting-MTA: dns; mx.example.net\nX-Postfix-Queue-ID: 4Fabc\n"
        "Arrival-Date: Sat,  5 Dec 2026 10:00:01 +0000 (UTC)\n\n"
        "Final-Recipient: rfc822; bob@example.net\nOriginal-Recipient: rfc822;bob@example.net\n"
        "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mail.example.net\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected:\n"
        "    User unknown\n",
        _RFC822,
    ),
    "bounce",
    "rfc3464",
    status="5.1.1",
    diagnostic_has="User unknown",
)

POSTFIX_DELAY_DSN = Case(
    _report(
        "delivery-status",
        "This is the mail system at host mx.example.net.\n\n"
        "####################################################################\n"
        "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
        "####################################################################\n\n"
        "Your message could not be delivered for more than 4 hour(s).\n"
        "It will be retried until it is 5 day(s) old.\n",
        "message/delivery-status",
        "Reporting-MTA: dns; mx.example.net\n\n"
        "Final-Recipient: rfc822; bob@example.net\nAction: delayed\nStatus: 4.4.1\n"
        "Diagnostic-Code: X-Postfix; connect to mail.example.net[192.0.2.5]:25: Connection "
        "timed out\nWill-Retry-Until: Thu, 10 Dec 2026 10:00:01 +0000 (UTC)\n",
        _HEADERS,
    ),
    "delay",
    "rfc3464",
    action="delayed",
    status="4.4.1",
    diagnostic_has="Connection timed out",
)

EXCHANGE_DSN = Case(
    _report(
        "delivery-status",
        "Delivery has failed to these recipients or groups:\n\nbob@example.net\nThe email "
        "address you entered couldn't be found.\n",
        "message/delivery-status",
        "Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.outlook.com\n"
        "Received-From-MTA: dns;mail.example.com\n\n"
        "Original-Recipient: rfc822;bob@example.net\nFinal-Recipient: rfc822;bob@example.net\n"
        "Action: failed\nStatus: 5.1.10\nDiagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR."
        "RecipientNotFound; Recipient not found by SMTP address lookup\n",
        _HEADERS,
    ),
    "bounce",
    "rfc3464",
    status="5.1.10",
    diagnostic_has="RecipientNotFound",
)

DSN_NO_ACTION = Case(
    _report(
        "delivery-status",
        "Delivery failed.\n",
        "message/delivery-status",
        "Reporting-MTA: dns; relay.example.net\n\nFinal-Recipient: RFC822; <bob@example.net>\n"
        "Status: 5.2.2 (mailbox full)\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\n",
        _HEADERS,
    ),
    "bounce",
    "rfc3464",
    status="5.2.2",
    diagnostic_has="Mailbox full",
)

GLOBAL_DSN = Case(
    _report(
        "global-delivery-status",
        "Delivery failed.\n",
        "message/global-delivery-status",
        "Reporting-MTA: dns; relay.example.net\n\nFinal-Recipient: utf-8; bob@example.net\n"
        "Action: failed\nStatus: 5.1.1\n",
        "Content-Type: message/global-headers\n\n" + ORIGINAL,
    ),
    "bounce",
    "rfc3464",
    status="5.1.1",
)

POSTFIX_TEXT = Case(
    _plain(
        "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "Undelivered Mail Returned to Sender",
        "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you "
        "that your message could not\nbe delivered to one or more recipients. It's attached "
        "below.\n\n<bob@example.net>: host mail.example.net[192.0.2.5] said: 550 5.1.1\n"
        "    <bob@example.net>: Recipient address rejected: User unknown in local\n"
        "    recipient table (in reply to RCPT TO command)\n\n"
        "--- Undelivered message headers follow ---\n" + ORIGINAL,
    ),
    "bounce",
    "postfix",
    status="5.1.1",
    diagnostic_has="550 5.1.1",
)

POSTFIX_DELAY_TEXT = Case(
    _plain(
        "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "Delayed Mail (still being retried)",
        "This is the mail system at host mx.example.net.\n\n"
        "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n\n"
        "<bob@example.net>: connect to mail.example.net[192.0.2.5]:25: Connection timed out\n",
    ),
    "delay",
    "postfix",
    action="delayed",
    status=None,
    diagnostic_has="Connection timed out",
)

EXIM = Case(
    _plain(
        "Mail Delivery System <Mailer-Daemon@mx.example.net>",
        "Mail delivery failed: returning message to sender",
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\nrecipients. "
        "This is a permanent error. The following address(es) failed:\n\n"
        "  bob@example.net\n    host mail.example.net [192.0.2.5]\n"
        "    SMTP error from remote mail server after RCPT TO:<bob@example.net>:\n"
        "    550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n" + ORIGINAL,
        "Auto-Submitted: auto-replied\n",
    ),
    "bounce",
    "exim",
    status="5.1.1",
    diagnostic_has="User unknown",
)

EXIM_DELAY = Case(
    _plain(
        "Mail Delivery System <Mailer-Daemon@mx.example.net>",
        "Warning: message 1abc-000Def-00 delayed 24 hours",
        "This message was created automatically by mail delivery software.\n"
        "A message that you sent has not yet been delivered to one or more of its\n"
        "recipients after more than 24 hours on the queue on mx.example.net.\n\n"
        "The message identifier is:     1abc-000Def-00\n\n"
        "The address to which the message has not yet been delivered is:\n\n"
        "  bob@example.net\n    Delay reason: SMTP error from remote mail server after RCPT\n"
        "    TO:<bob@example.net>: 451 4.7.1 Greylisted, try again later\n\n"
        "No action is required on your part. Delivery attempts will continue for some time.\n",
        "Auto-Submitted: auto-replied\n",
    ),
    "delay",
    "exim",
    action="delayed",
    status="4.7.1",
    diagnostic_has="Greylisted",
)

QMAIL = Case(
    _plain(
        "MAILER-DAEMON@mx.example.net",
        "failure notice",
        "Hi. This is the qmail-send program at mx.example.net.\nI'm afraid I wasn't able to "
        "deliver your message to the following addresses.\nThis is a permanent error; I've "
        "given up. Sorry it didn't work out.\n\n<bob@example.net>:\n"
        "192.0.2.5 does not like recipient.\nRemote host said: 550 5.1.1 No such user here\n"
        "Giving up on 192.0.2.5.\n\n--- Below this line is a copy of the message.\n\n" + ORIGINAL,
    ),
    "bounce",
    "qmail",
    status="5.1.1",
    diagnostic_has="No such user",
)

QMAIL_NO_CODE = Case(
    _plain(
        "MAILER-DAEMON@mx.example.net",
        "failure notice",
        "Hi. This is the qmail-send program at mx.example.net.\nI'm afraid I wasn't able to "
        "deliver your message to the following addresses.\nThis is a permanent error; I've "
        "given up. Sorry it didn't work out.\n\n<bob@example.net>:\n"
        "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n" + ORIGINAL,
    ),
    "bounce",
    "qmail",
    status="5.1.1",
    diagnostic_has="no mailbox here",
)

SENDMAIL = Case(
    _plain(
        "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
        "Returned mail: see transcript for details",
        "The original message was received at Sat, 5 Dec 2026 10:00:00 GMT\nfrom "
        "localhost [127.0.0.1]\n\n   ----- The following addresses had permanent fatal "
        "errors -----\n<bob@example.net>\n    (reason: 550 5.1.1 <bob@example.net>... User "
        "unknown)\n\n   ----- Transcript of session follows -----\n... while talking to "
        "mail.example.net.:\n>>> RCPT To:<bob@example.net>\n<<< 550 5.1.1 <bob@example.net>"
        "... User unknown\n",
    ),
    "bounce",
    "sendmail",
    status="5.1.1",
    diagnostic_has="User",
)

SENDMAIL_WARNING = Case(
    _plain(
        "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
        "Warning: could not send message for past 4 hours",
        "    **********************************************\n"
        "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
        "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
        "    **********************************************\n\n"
        "The original message was received at Sat, 5 Dec 2026 06:00:00 GMT\n\n"
        "   ----- Transcript of session follows -----\n"
        "<bob@example.net>... Deferred: Connection timed out with mail.example.net.\n"
        "Warning: message still undelivered after 4 hours\n"
        "Will keep trying until message is 5 days old\n",
    ),
    "delay",
    "sendmail",
    action="delayed",
    diagnostic_has="Deferred",
)

EXCHANGE_ONLINE = Case(
    _plain(
        "Microsoft Outlook <MAILER-DAEMON@example.onmicrosoft.com>",
        "Undeliverable: Your order",
        "Your message to bob@example.net couldn't be delivered.\n\nbob wasn't found at "
        "example.net.\n\nDelivery has failed to these recipients or groups:\n\n"
        "Diagnostic information for administrators:\n\nGenerating server: "
        "AM0PR01MB1234.eurprd01.prod.outlook.com\n\nbob@example.net\nRemote Server returned "
        "'550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address "
        "lookup'\n\nOriginal message headers:\n\n" + ORIGINAL,
    ),
    "bounce",
    "exchange",
    status="5.1.10",
    diagnostic_has="RecipientNotFound",
)

EXCHANGE_2003 = Case(
    _plain(
        "System Administrator <postmaster@example.net>",
        "Undeliverable: Your order",
        "Your message did not reach some or all of the intended recipients.\n\n"
        "      Subject:  Your order\n      Sent:     05/12/2026 10:00\n\n"
        "The following recipient(s) cannot be reached:\n\n"
        "      bob@example.net on 05/12/2026 10:00\n"
        "            The e-mail account does not exist at the organization this message was "
        "sent to.\n            <mail.example.net #5.1.1 smtp;550 5.1.1 User unknown>\n",
    ),
    "bounce",
    "exchange",
    status="5.1.1",
    diagnostic_has="User unknown",
)

GMAIL = Case(
    _plain(
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        "** Address not found **\n\nYour message wasn't delivered to bob@example.net because "
        "the address couldn't be found, or is unable to receive mail.\n\n"
        "The response from the remote server was:\n550 5.1.1 The email account that you tried "
        "to reach does not exist. Please try double-checking the recipient's email address "
        "for typos or unnecessary spaces.\n",
    ),
    "bounce",
    "gmail",
    status="5.1.1",
    diagnostic_has="does not exist",
)

GMAIL_DELAY = Case(
    _plain(
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Delay)",
        "** Delivery incomplete **\n\nThere was a temporary problem delivering your message to "
        "bob@example.net. Gmail will retry for 47 more hours. You'll be notified if the "
        "delivery fails permanently.\n\nThe response was:\n"
        "421 4.7.0 Try again later, closing connection.\n",
    ),
    "delay",
    "gmail",
    action="delayed",
    status="4.7.0",
    diagnostic_has="421",
)

YAHOO = Case(
    _plain(
        "MAILER-DAEMON@yahoo.com",
        "Failure Notice",
        "Sorry, we were unable to deliver your message to the following address.\n\n"
        "<bob@example.net>:\n554: delivery error: dd This user doesn't have a yahoo.com "
        "account (bob@example.net) [0] - mta1234.mail.gq1.yahoo.com\n\n"
        "--- Below this line is a copy of the message.\n\n" + ORIGINAL,
    ),
    "bounce",
    "yahoo",
    status="5.0.0",
    diagnostic_has="doesn't have a yahoo.com account",
)

DOMINO = Case(
    _plain(
        "Postmaster <postmaster@example.net>",
        "DELIVERY FAILURE: User bob (bob@example.net) not listed in Domino Directory",
        "Your message\n\n  Subject: Your order\n\nwas not delivered to:\n\n  bob@example.net\n\n"
        "because:\n\n  User bob (bob@example.net) not listed in Domino Directory\n",
    ),
    "bounce",
    "domino",
    status=None,
    diagnostic_has="not listed",
)

COURIER = Case(
    _plain(
        "Courier mail server at mx.example.net <@>",
        "NOTICE: mail delivery status.",
        "This is a delivery status notification from mx.example.net,\nrunning the Courier "
        "mail server, version 1.1.\n\nYour message was not delivered to the following "
        "recipients:\n\n<bob@example.net>:\n    mail.example.net [192.0.2.5]:\n"
        ">>> RCPT TO:<bob@example.net>\n<<< 550 5.1.1 <bob@example.net>... No such user\n",
    ),
    "bounce",
    "courier",
    status="5.1.1",
    diagnostic_has="No such user",
)

GENERIC_FULL = Case(
    _plain(
        "Mail Delivery System <MAILER-DAEMON@relay.example.net>",
        "Undeliverable mail",
        "Delivery to the following recipient failed permanently:\n\n     bob@example.net\n\n"
        "Technical details of permanent failure:\n552 5.2.2 Mailbox full: quota exceeded\n",
    ),
    "bounce",
    "generic",
    status="5.2.2",
    diagnostic_has="quota exceeded",
)

ARF_ABUSE = Case(
    (
        "From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>\n"
        "To: " + RETURN_PATH + "\nSubject: FW: Your order\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n\n'
        "--F\nContent-Type: text/plain\n\nThis is an email abuse report.\n"
        "--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
        "User-Agent: Yahoo!-Mail-Feedback/2.0\nVersion: 1\n"
        "Original-Mail-From: <" + RETURN_PATH + ">\nOriginal-Rcpt-To: <bob@example.net>\n"
        "Arrival-Date: Sat, 05 Dec 2026 10:00:02 +0000\nReported-Domain: example.com\n"
        "Source-IP: 192.0.2.1\n\n--F\n" + _RFC822 + "--F--\n"
    ),
    "complaint",
    "arf",
    address=None,
    action=None,
)

ARF_REDACTED = Case(
    (
        "From: staff@hotmail.com\nTo: " + RETURN_PATH + "\nSubject: complaint about message\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type="feedback-report"; boundary="F"\n\n'
        "--F\nContent-Type: text/plain\n\nThis is an email abuse report.\n"
        "--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n"
        "User-Agent: JMRP\n\n--F\n" + _HEADERS + "\n--F--\n"
    ),
    "complaint",
    "arf",
    address=None,
    action=None,
)

ARF_NOT_SPAM = Case(
    ARF_ABUSE.raw.replace("Feedback-Type: abuse", "Feedback-Type: not-spam"),
    "unknown",
    "arf",
    address=None,
    action=None,
)

OUT_OF_OFFICE = Case(
    _plain(
        "Bob <bob@example.net>",
        "Out of Office: Your order",
        "I am out of the office until Monday. Your message could not be delivered to me in "
        "person; for urgent matters write to alice@example.net.\n",
        "Auto-Submitted: auto-replied\n",
    ),
    "auto_reply",
    "rfc3834",
    address=None,
    action=None,
)

EXCHANGE_AUTO_REPLY = Case(
    _plain(
        "Bob <bob@example.net>",
        "Automatic reply: Your order",
        "Thanks for your message. I'm away until 7 December.\n",
        "X-Auto-Response-Suppress: All\n",
    ),
    "auto_reply",
    "rfc3834",
    address=None,
    action=None,
)

VACATION = Case(
    _plain("Bob <bob@example.net>", "Re: Your order", "On vacation.\n", "X-Autoreply: yes\n"),
    "auto_reply",
    "rfc3834",
    address=None,
    action=None,
)

PERSON_REPLY = Case(
    _plain("Bob <bob@example.net>", "Re: Your order", "Thanks, got it!\n"),
    "unknown",
    "none",
    address=None,
    action=None,
)

CASES: dict[str, Case] = {
    "postfix-dsn": POSTFIX_DSN,
    "postfix-delay-dsn": POSTFIX_DELAY_DSN,
    "exchange-dsn": EXCHANGE_DSN,
    "dsn-without-action": DSN_NO_ACTION,
    "global-dsn": GLOBAL_DSN,
    "postfix-text": POSTFIX_TEXT,
    "postfix-delay-text": POSTFIX_DELAY_TEXT,
    "exim": EXIM,
    "exim-delay": EXIM_DELAY,
    "qmail": QMAIL,
    "qmail-without-reply": QMAIL_NO_CODE,
    "sendmail": SENDMAIL,
    "sendmail-warning": SENDMAIL_WARNING,
    "exchange-online": EXCHANGE_ONLINE,
    "exchange-2003": EXCHANGE_2003,
    "gmail": GMAIL,
    "gmail-delay": GMAIL_DELAY,
    "yahoo": YAHOO,
    "domino": DOMINO,
    "courier": COURIER,
    "generic-mailbox-full": GENERIC_FULL,
    "arf-abuse": ARF_ABUSE,
    "arf-redacted": ARF_REDACTED,
    "arf-not-spam": ARF_NOT_SPAM,
    "out-of-office": OUT_OF_OFFICE,
    "exchange-automatic-reply": EXCHANGE_AUTO_REPLY,
    "vacation": VACATION,
    "person-reply": PERSON_REPLY,
}
