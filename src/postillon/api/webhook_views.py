"""What the webhook routes take and answer: endpoint bodies, endpoints, secrets, the delivery log.

Owns the JSON of a webhook endpoint (its URL, its event filter ``"*"`` or a list of event types,
whether it is enabled and why not, its failure record, the end of a secret rotation's overlap),
of its ``whsec_`` secret (answered only at creation and rotation), of one logged attempt and of
a test delivery's result. Event types are checked here against the enum, so an unknown one is a
422 naming ``events[i]``. Must not call services (routes/webhooks.py does).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictBool, Tag

from postillon.events import EventType
from postillon.storage.webhook_records import AttemptLogEntry
from postillon.webhooks.endpoints import EndpointView, EndpointWithSecret
from postillon.webhooks.result import DeliveryResult
from postillon.webhooks.urls import MAX_URL_CHARS

# There are a dozen event types; a longer list can only repeat them. Bounds the work per request.
MAX_EVENT_TYPES = 50
# The webhook-id alphabet and length (signing.py): anything else was never one of our events.
EVENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
# The tags of the events union; field_paths drops "<...>" parts, so errors read "events[2]".
_ALL_TAG = "<all>"
_LIST_TAG = "<list>"
_EVENTS_ERROR = 'must be "*" (every event) or a list of event types'

WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="http or https; it must not resolve to a loopback, private, link-local or "
        "other special address (checked now and at every send). Redirects are not followed.",
        examples=["https://example.com/hooks/postillon"],
    ),
]


def _events_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return _ALL_TAG
    return _LIST_TAG if isinstance(value, list) else None


Events = Annotated[
    Annotated[Literal["*"], Tag(_ALL_TAG)]
    | Annotated[list[EventType], Tag(_LIST_TAG), Field(min_length=1, max_length=MAX_EVENT_TYPES)],
    Discriminator(
        _events_kind, custom_error_type="events_type", custom_error_message=_EVENTS_ERROR
    ),
]
EventsOut = Literal["*"] | list[EventType]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CreateWebhookBody(_Strict):
    """A webhook endpoint to register."""

    url: WebhookUrl
    events: Events = Field(
        description='"*" for every event (including types added later), or a list of types.',
        examples=["*", ["email.delivered", "email.bounced"]],
    )
    enabled: StrictBool = True


class UpdateWebhookBody(_Strict):
    """What to change; a field left out (or null) stays as it is."""

    url: WebhookUrl | None = None
    events: Events | None = None
    enabled: StrictBool | None = Field(
        default=None,
        description="true enables it again (clearing its failure record); false disables it "
        "and gives up its pending deliveries.",
    )


class ReplayBody(_Strict):
    """The event to send again."""

    event_id: str = Field(
        pattern=EVENT_ID_PATTERN,
        description="An event of the account (the webhook-id its receivers saw).",
        examples=["msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"],
    )


class EventTestBody(_Strict):
    """Which type the test event has (its ``data.test`` is true)."""

    type: EventType = EventType.EMAIL_DELIVERED


class WebhookOut(_Out):
    """A webhook endpoint (never its secret)."""

    id: str
    url: str
    events: EventsOut
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why it is disabled: by request, the receiver answered 410, or it kept "
        "failing (and since when)."
    )
    failing_since: datetime | None
    consecutive_failures: int
    previous_secret_until: datetime | None = Field(
        description="During a secret rotation, the previous secret signs too until then."
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    """A new endpoint, or one whose secret was just rotated, with its secret: shown only now."""

    secret: str = Field(
        description="whsec_ + base64 of the HMAC-SHA256 key (Standard Webhooks); verify "
        "webhook-signature with it. It is not shown again.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookList(_Out):
    """The account's endpoints, oldest first."""

    data: list[WebhookOut]


class ReplayAccepted(_Out):
    """A replay queued: the dispatcher sends the event (same webhook-id), retrying as usual."""

    webhook_id: str
    event_id: str


class DeliveryOut(_Out):
    """One attempt to deliver an event to the endpoint."""

    id: int = Field(description="Pass it as ``before`` to read older attempts.")
    event_id: str
    event_type: str
    attempt: int = Field(description="1 for the first try of this event, then 2, 3, ...")
    attempted_at: datetime
    status: int | None = Field(description="The receiver's HTTP status; null if none came.")
    verdict: str = Field(
        description="What followed: delivered, retry, failed, disable_endpoint, or test."
    )
    latency_ms: int
    response_snippet: str = Field(description="The start of the receiver's answer.")
    error: str | None


class DeliveryPage(_Out):
    """Attempts, newest first; ``next_before`` fetches the next page (null on the last)."""

    data: list[DeliveryOut]
    next_before: int | None


class DeliveryTestOut(_Out):
    """The result of one test delivery (sent once, without retries; also logged)."""

    success: bool = Field(description="The receiver answered 2xx.")
    attempted_at: datetime
    status: int | None
    latency_ms: int
    response_snippet: str
    error: str | None


def events_json(value: str | list[EventType]) -> str | list[str]:
    """A parsed ``events`` field as the service takes it: ``"*"`` or type names."""
    if isinstance(value, str):
        return value
    return [event.value for event in value]


def _events_out(view: EndpointView) -> EventsOut:
    types = view.event_filter.types
    if types is None:
        return "*"  # ALL_EVENTS
    return sorted(types, key=lambda t: t.value)


def webhook_out(view: EndpointView) -> WebhookOut:
    """The JSON of an endpoint."""
    return WebhookOut(**_fields(view))


def webhook_with_secret(created: EndpointWithSecret) -> WebhookWithSecret:
    """The JSON of an endpoint with its new secret."""
    return WebhookWithSecret(**_fields(created.endpoint), secret=created.secret)


def _fields(view: EndpointView) -> dict[str, Any]:
    return {
        "id": view.id,
        "url": view.url,
        "events": _events_out(view),
        "enabled": view.enabled,
        "disabled_reason": view.disabled_reason,
        "failing_since": view.failing_since,
        "consecutive_failures": view.consecutive_failures,
        "previous_secret_until": view.previous_secret_until,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
    }


def delivery_page(entries: list[AttemptLogEntry], limit: int) -> DeliveryPage:
    """One page of the log; a full page points at the next (which may turn out empty)."""
    data = [
        DeliveryOut(
            id=e.id,
            event_id=e.event_id,
            event_type=e.event_type,
            attempt=e.attempt,
            attempted_at=e.attempted_at,
            status=e.status,
            verdict=e.verdict,
            latency_ms=e.latency_ms,
            response_snippet=e.response_snippet,
            error=e.error,
        )
        for e in entries
    ]
    return DeliveryPage(data=data, next_before=data[-1].id if len(data) == limit else None)


def delivery_test_out(result: DeliveryResult) -> DeliveryTestOut:
    """The JSON of a test delivery's result."""
    return DeliveryTestOut(
        success=result.is_success,
        attempted_at=result.attempted_at,
        status=result.status,
        latency_ms=result.latency_ms,
        response_snippet=result.snippet,
        error=result.error,
    )
