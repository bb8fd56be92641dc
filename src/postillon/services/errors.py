"""Errors of the use cases, under :mod:`postillon.errors`; the API maps each to one status.

    NotFoundError (Permanent)             404: no such id *for this account* (another account's
                                          ids are "not found" too, never "forbidden")
    DomainNotVerifiedError (Permanent)    403: the From domain is not a verified domain of the
                                          account; ``hint`` says what to do
    IdempotencyConflictError (Permanent)  409: the Idempotency-Key was used with another body
    DomainExistsError (Permanent)         409: the account already has this domain

Validation problems stay :class:`postillon.message.errors.InvalidMessageError` (422, or 413
when ``is_too_large``) and bad domain names
:class:`postillon.domains.errors.InvalidDomainError` (422).
It must not know about HTTP.
"""

from __future__ import annotations

from postillon.errors import PermanentError


class NotFoundError(PermanentError):
    """The account has nothing with this id or name."""


class DomainNotVerifiedError(PermanentError):
    """A message's From domain is not a verified sender domain of the account."""

    def __init__(self, domain: str, hint: str) -> None:
        super().__init__(f"the sender domain {domain} is not verified: {hint}")
        self.domain = domain
        self.hint = hint


class IdempotencyConflictError(PermanentError):
    """The Idempotency-Key was used within its lifetime for a request with another body."""


class DomainExistsError(PermanentError):
    """The account already has this sender domain."""
