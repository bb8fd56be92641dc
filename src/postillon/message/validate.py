"""Validation: an :class:`OutgoingEmail` becomes a :class:`ValidEmail` or every problem, named.

Owns the checks that need no composition: addresses, subject, body presence, extra headers,
attachments, and a first size check on the raw content (the exact size is checked on the
composed bytes by :func:`postillon.message.compose.compose`). Collects every problem rather than
stopping at the first, so one 422 answer lists them all. Must not compose or touch I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from postillon.message.address import (
    Address,
    check_display_name,
    contains_injection,
    has_control_chars,
    make_address,
    parse_address,
)
from postillon.message.custom_headers import check_headers
from postillon.message.errors import (
    AddressError,
    InvalidMessageError,
    ProblemKind,
    ValidationProblem,
)
from postillon.message.model import MailboxInput, NamedAddress, OutgoingEmail, ValidEmail

# A subject longer than this is not a subject; it still folds, but we refuse the abuse.
MAX_SUBJECT_CHARS = 998
# Most file systems cap a name at 255; longer names only serve to confuse.
MAX_FILENAME_CHARS = 255
# RFC 2045 §5.1 type "/" subtype, both RFC 2045 tokens of at most 127 characters (RFC 6838
# §4.2); parameters are postillon's to write. The bound keeps the Content-Type line foldable.
_MIME_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+\-]{1,127}/[A-Za-z0-9!#$&^_.+\-]{1,127}")
# RFC 2392 cid: printable ASCII without brackets, quotes, spaces or backslash (a msg-id's text).
_CONTENT_ID = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.@]+")
MAX_CONTENT_ID_CHARS = 250
# RFC 2046 §5.1 / §5.2: multipart and message types carry structure we build ourselves.
_STRUCTURAL_TYPES = ("multipart/", "message/")


def validate(email: OutgoingEmail, *, max_message_bytes: int) -> ValidEmail:
    """Check ``email``; return its validated form.

    Raises :class:`InvalidMessageError` carrying every :class:`ValidationProblem` found; a
    problem of kind ``TOO_LARGE`` means the raw content alone exceeds ``max_message_bytes``.
    """
    problems: list[ValidationProblem] = []
    from_ = _mailbox("from", email.from_, problems)
    to = _mailboxes("to", email.to, problems)
    cc = _mailboxes("cc", email.cc, problems)
    bcc = _mailboxes("bcc", email.bcc, problems)
    reply_to = _mailboxes("reply_to", email.reply_to, problems)
    if not (email.to or email.cc or email.bcc):
        problems.append(ValidationProblem("to", "at least one recipient in to, cc or bcc"))
    problems.extend(_subject(email.subject))
    problems.extend(_body(email))
    problems.extend(check_headers(email.headers))
    problems.extend(_attachments(email))
    raw_size = sum(len(_utf8_or_empty(t)) for t in (email.text, email.html, email.subject))
    raw_size += sum(len(a.content) for a in email.attachments)
    if raw_size > max_message_bytes:
        problems.append(too_large(raw_size, max_message_bytes))
    if problems or from_ is None:
        raise InvalidMessageError(problems)
    return ValidEmail(
        from_=from_,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=email.subject,
        text=email.text or None,
        html=email.html or None,
        headers=email.headers,
        attachments=email.attachments,
    )


def too_large(size: int, limit: int) -> ValidationProblem:
    """The one problem the API answers with 413."""
    return ValidationProblem(
        "message",
        f"is at least {size} octets; the limit is {limit}",
        ProblemKind.TOO_LARGE,
    )


def _mailbox(where: str, value: MailboxInput, problems: list[ValidationProblem]) -> Address | None:
    field = where
    try:
        if isinstance(value, NamedAddress):
            field = f"{where}.name"
            name = check_display_name(value.name)
            field = f"{where}.email"
            return make_address(value.email, name)
        return parse_address(value)
    except AddressError as error:
        problems.append(ValidationProblem(field, str(error)))
        return None


def _mailboxes(
    where: str, values: Sequence[MailboxInput], problems: list[ValidationProblem]
) -> tuple[Address, ...]:
    parsed = (_mailbox(f"{where}[{i}]", value, problems) for i, value in enumerate(values))
    return tuple(address for address in parsed if address is not None)


def _subject(subject: str) -> list[ValidationProblem]:
    reason = _text_field_problem(subject)
    if reason is None and len(subject) > MAX_SUBJECT_CHARS:
        reason = f"is longer than {MAX_SUBJECT_CHARS} characters"
    return [ValidationProblem("subject", reason)] if reason else []


def _body(email: OutgoingEmail) -> list[ValidationProblem]:
    if not email.text and not email.html:
        return [ValidationProblem("text", "a message needs a text or an html body (or both)")]
    problems = []
    for where, body in (("text", email.text), ("html", email.html)):
        if body and _utf8_or_none(body) is None:
            problems.append(ValidationProblem(where, "is not valid Unicode (lone surrogate)"))
    return problems


def _attachments(email: OutgoingEmail) -> list[ValidationProblem]:
    problems: list[ValidationProblem] = []
    content_ids: set[str] = set()
    for index, attachment in enumerate(email.attachments):
        where = f"attachments[{index}]"
        reason = _text_field_problem(attachment.filename)
        if reason is None and not attachment.filename.strip():
            reason = "is empty"
        if reason is None and len(attachment.filename) > MAX_FILENAME_CHARS:
            reason = f"is longer than {MAX_FILENAME_CHARS} characters"
        if reason:
            problems.append(ValidationProblem(f"{where}.filename", reason))
        content_type = attachment.content_type
        if contains_injection(content_type):
            reason = "contains CR, LF or NUL (header injection)"
        elif not _MIME_TYPE.fullmatch(content_type):
            reason = (
                "must be a MIME type/subtype without parameters, each at most 127 characters"
                " (RFC 2045 §5.1, RFC 6838 §4.2)"
            )
        elif content_type.lower().startswith(_STRUCTURAL_TYPES):
            reason = "multipart/* and message/* are not accepted as attachments"
        else:
            reason = None
        if reason:
            problems.append(ValidationProblem(f"{where}.content_type", reason))
        if attachment.content_id is not None:
            reason = _content_id_problem(attachment.content_id, content_ids, email.html)
            if reason:
                problems.append(ValidationProblem(f"{where}.content_id", reason))
            content_ids.add(attachment.content_id)
    return problems


def _content_id_problem(content_id: str, seen: set[str], html: str | None) -> str | None:
    if contains_injection(content_id):
        return "contains CR, LF or NUL (header injection)"
    if not _CONTENT_ID.fullmatch(content_id) or len(content_id) > MAX_CONTENT_ID_CHARS:
        return "must be printable ASCII without spaces, quotes or brackets (RFC 2392)"
    if content_id in seen:
        return "is used by another attachment"
    if not html:
        return "inline parts need an html body that refers to them (cid:)"
    return None


def _text_field_problem(text: str) -> str | None:
    """The reason a one-line text field cannot go into a header, or None."""
    if contains_injection(text):
        return "contains CR, LF or NUL (header injection)"
    if _utf8_or_none(text) is None:
        return "is not valid Unicode (lone surrogate)"
    if has_control_chars(text):
        return "has control characters"
    return None


def _utf8_or_none(text: str) -> bytes | None:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _utf8_or_empty(text: str | None) -> bytes:
    return (_utf8_or_none(text) or b"") if text else b""
