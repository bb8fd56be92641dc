"""The input and validated forms of an outgoing email.

Owns :class:`OutgoingEmail` (what a caller hands in: raw strings, nothing checked yet),
:class:`Attachment`, :class:`NamedAddress` and :class:`ValidEmail` (what :func:`validate` hands
out: parsed addresses, checked headers). Must not validate or compose; those are
:mod:`postillon.message.validate` and :mod:`postillon.message.compose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from postillon.message.address import Address

DEFAULT_ATTACHMENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class NamedAddress:
    """A structured address input: ``{"email": ..., "name": ...}``."""

    email: str
    name: str | None = None


# One mailbox as a caller writes it: "Name <a@b.example>", "a@b.example" or structured.
MailboxInput = str | NamedAddress


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to attach; with ``content_id`` it is an inline part the HTML refers to (``cid:``)."""

    content: bytes
    filename: str
    content_type: str = DEFAULT_ATTACHMENT_TYPE
    content_id: str | None = None

    @property
    def is_inline(self) -> bool:
        """True for parts the HTML body shows in place (RFC 2387 multipart/related)."""
        return self.content_id is not None


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """An email as the API or a library caller hands it in; nothing here is checked yet.

    ``headers`` are extra header fields in order; only the names listed in
    :mod:`postillon.message.custom_headers` are accepted.
    """

    from_: MailboxInput
    to: tuple[MailboxInput, ...] = ()
    cc: tuple[MailboxInput, ...] = ()
    bcc: tuple[MailboxInput, ...] = ()
    reply_to: tuple[MailboxInput, ...] = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ValidEmail:
    """An email that passed :func:`postillon.message.validate.validate`; ready to compose."""

    from_: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    text: str | None
    html: str | None
    headers: tuple[tuple[str, str], ...]
    attachments: tuple[Attachment, ...]

    @property
    def needs_smtputf8(self) -> bool:
        """True when any address has a UTF-8 local part (RFC 6531)."""
        every = (self.from_, *self.to, *self.cc, *self.bcc, *self.reply_to)
        return any(address.needs_smtputf8 for address in every)
