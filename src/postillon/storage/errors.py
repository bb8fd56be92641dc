"""Storage errors under :mod:`postillon.errors`.

    StorageError (PermanentError)        a request the store cannot honour (no such account,
                                         bad cursor, no recipients): retrying will not help
    StorageUnavailableError (Temporary)  the database is busy, locked or unreachable

It must not import SQLAlchemy: callers catch these, never driver errors.
"""

from __future__ import annotations

from postillon.errors import PermanentError, TemporaryError


class StorageError(PermanentError):
    """The store refused a request that can never succeed as given."""


class StorageUnavailableError(TemporaryError):
    """The database could not be reached or stayed locked past the busy timeout."""
