"""Records of the tenant tables: API keys, sender domains, their DKIM keys. No SQL.

Times are aware UTC datetimes. It must not import SQLAlchemy.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postillon.events import EventType


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored API key: its digest (never the key), prefix and times."""

    id: str
    account_id: str
    digest: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    sessions_ended_at: datetime | None = None


class KeyStatus(enum.StrEnum):
    """A DKIM key's life: published and waiting for DNS, signing, or no longer signing."""

    PENDING = "pending"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True)
class NewDkimKey:
    """A DKIM key to store: sealed private key and the record to publish."""

    selector: str
    key_type: str  # "rsa" | "ed25519"
    sealed_key: bytes
    key_record: str


@dataclass(frozen=True)
class DkimKeyRecord:
    """A stored DKIM key."""

    id: str
    selector: str
    key_type: str
    sealed_key: bytes
    key_record: str
    status: KeyStatus
    created_at: datetime
    activated_at: datetime | None


@dataclass(frozen=True)
class DomainRecord:
    """A stored sender domain with its keys (oldest first) and its last check."""

    id: str
    account_id: str
    name: str
    status: str
    verified_at: datetime | None
    last_checked_at: datetime | None
    check_results: Sequence[Mapping[str, Any]]
    dmarc_policy: str | None
    created_at: datetime
    keys: tuple[DkimKeyRecord, ...]
    unsubscribe_default: bool = False


@dataclass(frozen=True)
class CheckUpdate:
    """What a verification run writes: the domain's status and results, and the key changes
    (keys to activate; older keys of the same type retire when one is activated)."""

    status: str
    verified_at: datetime | None
    checked_at: datetime
    check_results: Sequence[Mapping[str, Any]]
    dmarc_policy: str | None
    activate_key_ids: tuple[str, ...] = ()
    # An outbox event for the account, written in the same commit (domain.verified when the
    # domain becomes verified, domain.dns_failed when a check fails): (type, payload).
    event: tuple[EventType, Mapping[str, Any]] | None = None
