"""Validation problems and the errors that carry them.

Owns :class:`ValidationProblem` (one field, one reason) and the two errors of this package, both
permanent: retrying the same input gives the same answer. Must not know about HTTP; the API maps
:attr:`ProblemKind.TOO_LARGE` to 413 and every other kind to 422.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from postillon.errors import PermanentError


class ProblemKind(enum.Enum):
    """What kind of problem: the edges answer each kind with its own status."""

    INVALID = "invalid"  # malformed or forbidden input (422)
    TOO_LARGE = "too_large"  # the message exceeds the configured size (413)


@dataclass(frozen=True, slots=True)
class ValidationProblem:
    """One problem with one input field; ``field`` uses the JSON names (``to[2].email``)."""

    field: str
    message: str
    kind: ProblemKind = ProblemKind.INVALID

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class AddressError(PermanentError):
    """An address does not parse or breaks a limit; the message says why (not where)."""


class InvalidMessageError(PermanentError):
    """The input cannot become a message; carries every problem found, each naming its field."""

    def __init__(self, problems: Iterable[ValidationProblem]) -> None:
        self.problems: tuple[ValidationProblem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("an InvalidMessageError needs at least one problem")
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def is_too_large(self) -> bool:
        """True when any problem is the size limit (the API answers 413)."""
        return any(p.kind is ProblemKind.TOO_LARGE for p in self.problems)
