"""Storage: the Store protocol, its SQLAlchemy implementation (SQLite default), migrations.

Open one with ``SqlStore.from_url(settings.storage.url, clock)``, then ``await store.migrate()``.
"""

from postillon.storage.errors import StorageError, StorageUnavailableError
from postillon.storage.protocol import Store
from postillon.storage.records import (
    Account,
    AttemptRecord,
    AttemptView,
    ClaimedJob,
    ClaimedRecipient,
    EnqueuedRecipient,
    EnqueueResult,
    MessageFilter,
    MessageView,
    NewMessage,
    NewRecipient,
    OutboxEvent,
    Page,
    RecipientOutcome,
    RecipientView,
    RecordResult,
    Suppression,
)
from postillon.storage.sql_store import SqlStore

__all__ = [
    "Account",
    "AttemptRecord",
    "AttemptView",
    "ClaimedJob",
    "ClaimedRecipient",
    "EnqueueResult",
    "EnqueuedRecipient",
    "MessageFilter",
    "MessageView",
    "NewMessage",
    "NewRecipient",
    "OutboxEvent",
    "Page",
    "RecipientOutcome",
    "RecipientView",
    "RecordResult",
    "SqlStore",
    "StorageError",
    "StorageUnavailableError",
    "Store",
    "Suppression",
]
