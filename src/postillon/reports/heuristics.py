"""Non-standard bounces: no delivery-status part, only prose with an address and a reply code.

Owns recognising a bounce that is not RFC 3464 (from its sender, its subject, or the wording
of the MTA that wrote it: Postfix, Exim, qmail, Sendmail, Exchange/Outlook, Gmail, Yahoo,
Domino, Courier ...) and reading from its text, per recipient address mentioned, the RFC 3463
status, the SMTP reply and whether the MTA has given up or still retries.
Addresses are found by scanning outward from each ``@`` with bounded lengths (a regex over the
whole text could backtrack quadratically on hostile input). It must not decide which of the
addresses found were ours (the caller matches them against the message), nor do I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from postillon.reports import fields
from postillon.reports.model import Action, DsnRecipient

# Addresses read from one bounce's text; a bounce lists the recipients of one transaction.
MAX_ADDRESSES = 100
# "@" signs looked at: bounded work on a text made of them.
MAX_AT_SIGNS = 2000
# Text read per recipient after its first mention: its reason follows it within a few lines.
MAX_SEGMENT_CHARS = 4000
# RFC 5321 §4.5.3.1: local part ≤ 64 octets, domain ≤ 255.
_MAX_LOCAL = 64
_MAX_DOMAIN = 255
MAX_DIAGNOSTIC_CHARS = 1000

_LOCAL_TAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}\Z")
_DOMAIN_HEAD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z][A-Za-z0-9-]{0,62}")
# Lines whose addresses are not recipients: the quoted original's own headers.
_NOT_RECIPIENT_LINE = re.compile(
    r"^\s*(?:from|return-path|sender|reply-to|message-id|references|in-reply-to|received"
    r"|dkim-signature|list-unsubscribe|errors-to)\s*:",
    re.IGNORECASE,
)
# Senders of bounces: the mailer daemon's names (RFC 5321 §4.5.5 uses the null sender; the
# From header says who wrote it).
_DAEMON_FROM = re.compile(
    r"mailer-daemon|postmaster|mail delivery (?:subsystem|system)|mail administrator|"
    r"microsoftexchange|mdaemon@|mail delivery",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|returned mail|mail delivery failed|"
    r"delivery status notification|delivery failure|failure notice|could not be delivered|"
    r"non[- ]?delivery|delivery (?:has )?failed|"
    r"warning: could not send|delayed mail|delivery delayed|message not delivered|"
    r"address not found|delivery incomplete",
    re.IGNORECASE,
)
# Wording that says the MTA keeps trying (a delay notice, RFC 3464's "delayed").
_STILL_TRYING = re.compile(
    r"this is a warning|has not yet been delivered|not been delivered yet|"
    r"will (?:continue to |keep )?(?:re)?try|will keep trying|will be retried|"
    r"still being retried|delivery incomplete|message not delivered yet|"
    r"temporary problem delivering|delivery status notification \(delay\)|"
    r"could not send message for past|no action is required on your part|delivery delayed",
    re.IGNORECASE,
)
# A reply line: three digits, then a space, dash or colon (Yahoo writes "554:").
_REPLY = re.compile(r"(?<![\d.])([245]\d\d)[ :-]")


@dataclass(frozen=True)
class Shape:
    """A bounce writer recognised by its wording."""

    name: str
    signature: re.Pattern[str]


# Written from the public descriptions of each MTA's bounce text; the first match names it.
SHAPES: tuple[Shape, ...] = (
    Shape(
        "postfix", re.compile(r"this is the mail system at host|i'm sorry to have to inform", re.I)
    ),
    Shape("exim", re.compile(r"created automatically by mail delivery software", re.I)),
    Shape("qmail", re.compile(r"qmail-send program|i wasn't able to deliver your message", re.I)),
    Shape(
        "sendmail",
        re.compile(
            r"had permanent fatal errors|transcript of session follows|warning message only", re.I
        ),
    ),
    Shape(
        "exchange",
        re.compile(
            r"delivery has failed to these recipients|did not reach some or all of the intended|"
            r"remote server returned|following recipient\(s\) cannot be reached|"
            r"diagnostic information for administrators",
            re.I,
        ),
    ),
    Shape(
        "gmail",
        re.compile(r"\*\* (?:address not found|message not delivered|delivery incomplete)", re.I),
    ),
    Shape("yahoo", re.compile(r"we were unable to deliver your message to the following", re.I)),
    Shape("domino", re.compile(r"was not delivered to:.*?because:", re.I | re.S)),
    Shape(
        "courier",
        re.compile(r"courier mail server|not delivered to the following recipients", re.I),
    ),
)


def shape_of(text: str) -> str | None:
    """The name of the bounce writer whose wording ``text`` has, or None."""
    for shape in SHAPES:
        if shape.signature.search(text):
            return shape.name
    return None


def looks_like_bounce(from_header: str, subject: str, text: str) -> bool:
    """True when the sender, the subject or the wording says this is a bounce."""
    return bool(
        _DAEMON_FROM.search(from_header) or _BOUNCE_SUBJECT.search(subject) or shape_of(text)
    )


def is_still_trying(subject: str, text: str) -> bool:
    """True for a delay notice: the writer says it keeps trying."""
    return bool(_STILL_TRYING.search(subject) or _STILL_TRYING.search(text))


def _line_at(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start : end if end >= 0 else len(text)]


def addresses(text: str) -> list[tuple[str, int]]:
    """Each address mentioned (first mention, in order, compared in any case) with the index
    of that mention; header lines of a quoted original, mailer-daemon and postmaster
    addresses are left out."""
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    for count, at in enumerate(re.finditer("@", text)):
        if count >= MAX_AT_SIGNS or len(found) >= MAX_ADDRESSES:
            break
        i = at.start()
        local = _LOCAL_TAIL.search(text, max(0, i - _MAX_LOCAL), i)
        domain = _DOMAIN_HEAD.match(text, i + 1, i + 1 + _MAX_DOMAIN)
        if local is None or domain is None:
            continue
        name = local.group(0).lstrip(".'")
        address = name + "@" + domain.group(0).rstrip(".")
        key = address.lower()
        if not name or key in seen or name.lower() in ("mailer-daemon", "postmaster"):
            continue
        if _NOT_RECIPIENT_LINE.match(_line_at(text, i)):
            continue
        seen.add(key)
        found.append((address, local.start()))
    return found


def _diagnostic(segment: str) -> str:
    """The line carrying the reply (an SMTP code or an RFC 3463 status) and its continuation,
    or the first non-empty line after the address's own."""
    lines = [line.strip() for line in segment.splitlines()]
    for index, line in enumerate(lines):
        match = _REPLY.search(line) or (fields.status_code(line) and re.search(r"\S", line))
        if match:
            text = line[match.start() :] if isinstance(match, re.Match) else line
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following and not _REPLY.search(following) and not following.startswith(("<", "-")):
                text = f"{text} {following}"
            return text[:MAX_DIAGNOSTIC_CHARS]
    # No code: the reason follows the address on its line ("<bob@x>: connect to ...") or
    # stands on the next one.
    own = lines[0].split("@", 1)[-1].partition(">")[2].lstrip(":.").strip() if lines else ""
    # A label line ("because:") introduces the reason rather than giving it.
    rest = [line for line in lines[1:] if line and not line.endswith(":")]
    return (own or (rest[0] if rest else ""))[:MAX_DIAGNOSTIC_CHARS]


def recipients(text: str, *, still_trying: bool) -> tuple[DsnRecipient, ...]:
    """A status per address mentioned in a plain-text bounce.

    Each address's reason is read from its first mention up to the next address's (at most
    :data:`MAX_SEGMENT_CHARS`); a status code found there (or anywhere, when there is none)
    decides, and a class 5 code means failed even in a text that says it retries.
    """
    found = addresses(text)
    overall = fields.status_code(text)
    result = []
    for index, (address, start) in enumerate(found):
        end = found[index + 1][1] if index + 1 < len(found) else len(text)
        segment = text[start : min(end, start + MAX_SEGMENT_CHARS)]
        status = fields.status_code(segment) or overall
        diagnostic = _diagnostic(segment)
        if status is None:
            code = _REPLY.search(diagnostic)
            status = f"{code.group(1)[0]}.0.0" if code else None
        permanent = status is not None and status.startswith("5")
        action = Action.DELAYED if still_trying and not permanent else Action.FAILED
        result.append(
            DsnRecipient(address=address, action=action, status=status, diagnostic=diagnostic)
        )
    return tuple(result)
