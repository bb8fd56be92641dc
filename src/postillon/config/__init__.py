"""Frozen settings from a TOML file plus ``POSTILLON_*`` environment overrides."""

from postillon.config.loader import load_settings
from postillon.config.settings import (
    ApiSettings,
    DeliverySettings,
    DnsSettings,
    MtaStsSettings,
    RetrySettings,
    Settings,
    SmtpTimeouts,
    StorageSettings,
    TlsSettings,
    WebhookSettings,
)

__all__ = [
    "ApiSettings",
    "DeliverySettings",
    "DnsSettings",
    "MtaStsSettings",
    "RetrySettings",
    "Settings",
    "SmtpTimeouts",
    "StorageSettings",
    "TlsSettings",
    "WebhookSettings",
    "load_settings",
]
