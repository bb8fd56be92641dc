"""What the domain routes take and answer: the request body and the domain with its records.

Owns the JSON of a sender domain: its status, the selector that signs, and each record to
publish (type, name, value, the value cut into 255-octet strings for TXT, and after a check
what DNS held and what to fix). Must not call services.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from postillon.services.domain_views import DomainStatus, DomainView, RecordView

# RFC 1035 §2.3.4: a name is at most 253 characters as written (255 octets on the wire).
MAX_DOMAIN_CHARS = 253


class AddDomainBody(BaseModel):
    """A sender domain to add."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=MAX_DOMAIN_CHARS, examples=["example.com"])


class DomainSettingsBody(BaseModel):
    """A domain's settings to change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unsubscribe_default: bool = Field(
        description="Add one-click unsubscribe to single-recipient mail by default."
    )


class RecordOut(BaseModel):
    """One DNS record to publish, and how the last check found it."""

    model_config = ConfigDict(frozen=True)

    purpose: str = Field(description="dkim, spf, return_path or dmarc.")
    type: str = Field(description="TXT or MX.")
    name: str
    value: str
    value_strings: list[str] = Field(
        description="A TXT value cut into character-strings of at most 255 octets."
    )
    required: bool = Field(description="The domain verifies only when every required one does.")
    status: str = Field(
        description="pending (not checked), verified, missing, mismatch, dns_error."
    )
    found: list[str] = Field(description="What DNS held at the last check.")
    problem: str | None = Field(description="What to fix (or a warning on a verified record).")


class DomainOut(BaseModel):
    """A sender domain."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: DomainStatus
    selector: str = Field(description="The DKIM selector that signs (or will, once verified).")
    created_at: datetime | None
    verified_at: datetime | None
    last_checked_at: datetime | None
    dmarc_policy: str | None = Field(description="The domain's DMARC policy, as last found.")
    unsubscribe_default: bool = Field(
        description="Single-recipient mail from this domain gets one-click unsubscribe (RFC "
        "8058) unless the request says otherwise."
    )
    records: list[RecordOut]


class DomainList(BaseModel):
    """The account's domains, by name."""

    model_config = ConfigDict(frozen=True)

    data: list[DomainOut]


def record_out(view: RecordView) -> RecordOut:
    """The JSON of one record."""
    return RecordOut(
        purpose=view.purpose,
        type=view.type,
        name=view.name,
        value=view.value,
        value_strings=list(view.value_strings),
        required=view.required,
        status=view.status,
        found=list(view.found),
        problem=view.problem,
    )


def domain_out(view: DomainView) -> DomainOut:
    """The JSON of one domain."""
    return DomainOut(
        name=view.name,
        status=view.status,
        selector=view.selector,
        created_at=view.created_at,
        verified_at=view.verified_at,
        last_checked_at=view.last_checked_at,
        dmarc_policy=view.dmarc_policy,
        unsubscribe_default=view.unsubscribe_default,
        records=[record_out(r) for r in view.records],
    )
