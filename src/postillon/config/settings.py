"""The settings model: every section and key postillon understands, with defaults.

Every model forbids unknown keys (a typo is an error that names the key, never a silent default)
and is frozen (settings are passed down, never changed). Key names here are the documented
contract of the config file; new keys may join, existing ones keep their names.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageSettings(_Section):
    """Where the queue lives: ``sqlite:///path`` (default) or ``postgresql://...``."""

    url: str = "sqlite:///var/postillon.db"


class ApiSettings(_Section):
    """The HTTP API and dashboard listener."""

    listen: str = "127.0.0.1:8025"
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # Per API key: sustained requests per second and the burst allowed at once (429 beyond).
    rate_per_s: float = Field(default=10.0, gt=0)
    rate_burst: int = Field(default=50, ge=1)


class DnsSettings(_Section):
    """The resolver used for MX, A/AAAA, TXT (MTA-STS, DKIM checks) lookups."""

    # "address:port" (IPv6 as "[::1]:53"); empty means the system resolver.
    nameservers: tuple[str, ...] = ()
    timeout_s: float = Field(default=5.0, gt=0)
    cache_max_entries: int = Field(default=10_000, ge=0)


class TlsSettings(_Section):
    """Extra trust anchors for MTA-STS policy fetches and verified MX TLS."""

    ca_file: Path | None = None


class SmtpTimeouts(_Section):
    """One timeout per SMTP phase; defaults from RFC 5321 section 4.5.3.2."""

    connect_s: float = Field(default=30.0, gt=0)
    greeting_s: float = Field(default=300.0, gt=0)  # initial 220: 5 minutes
    ehlo_s: float = Field(default=300.0, gt=0)
    starttls_s: float = Field(default=60.0, gt=0)  # STARTTLS reply plus the TLS handshake
    mail_s: float = Field(default=300.0, gt=0)  # MAIL: 5 minutes
    rcpt_s: float = Field(default=300.0, gt=0)  # RCPT: 5 minutes
    data_init_s: float = Field(default=120.0, gt=0)  # DATA initiation (354): 2 minutes
    data_block_s: float = Field(default=180.0, gt=0)  # each data block written: 3 minutes
    final_dot_s: float = Field(default=600.0, gt=0)  # DATA termination: 10 minutes
    rset_s: float = Field(default=60.0, gt=0)
    quit_s: float = Field(default=10.0, gt=0)


class DeliverySettings(_Section):
    """How postillon reaches MX hosts."""

    # Our name in EHLO and in loop detection; set it to the name the sending IPs' PTR records give.
    helo_name: str = Field(default_factory=lambda: os.uname().nodename)
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    # Bind outbound connections to these (round robin); also the addresses our SPF authorizes.
    source_addresses: tuple[str, ...] = ()
    # Addresses that are us, besides source_addresses: an MX resolving here is a loop (5.4.6).
    own_addresses: tuple[str, ...] = ()
    max_rcpts_per_transaction: int = Field(default=100, gt=0)
    concurrency_per_destination: int = Field(default=10, gt=0)
    max_messages_per_connection: int = Field(default=100, gt=0)
    connection_idle_s: float = Field(default=30.0, gt=0)
    # Jobs (one message to one domain) in flight at once on this node.
    max_parallel_jobs: int = Field(default=64, gt=0)
    # How long a claim holds recipients; renewed while an attempt runs, so a crashed node's
    # recipients are due again this long after it died.
    lease_s: float = Field(default=120.0, gt=0)
    # How often an idle engine looks for due mail when nothing wakes it.
    poll_interval_s: float = Field(default=1.0, gt=0)
    # On SIGTERM, how long in-flight transactions may take to finish before they are cut.
    drain_timeout_s: float = Field(default=30.0, gt=0)
    timeouts: SmtpTimeouts = SmtpTimeouts()


class RetrySettings(_Section):
    """Backoff for deferred recipients (see queue/retry.py for how the defaults were chosen)."""

    base_s: float = Field(default=300.0, gt=0)  # Postfix minimal_backoff_time
    cap_s: float = Field(default=4 * 3600.0, gt=0)
    jitter: float = Field(default=0.2, ge=0, lt=1)
    max_lifetime_s: float = Field(default=5 * 86400.0, gt=0)  # Postfix maximal_queue_lifetime


class MtaStsSettings(_Section):
    """MTA-STS (RFC 8461) policy discovery and fetching."""

    enabled: bool = True
    fetch_timeout_s: float = Field(default=10.0, gt=0)
    https_port: int = Field(default=443, gt=0, lt=65536)


class WebhookSettings(_Section):
    """Webhook delivery; private targets are refused unless listed here (CIDRs)."""

    allow_private_networks: tuple[str, ...] = ()


class DkimSettings(_Section):
    """DKIM keys at rest: the master key that seals them (AES-256-GCM), and signature options."""

    # The base64 of 32 octets; when absent, ``master_key_file`` is read (created 0600 if new).
    master_key: str | None = Field(default=None, repr=False)
    master_key_file: Path = Path("var/dkim-master.key")
    # Add an Ed25519 signature (RFC 8463) after the RSA one; needs a second published key.
    ed25519: bool = False


class Settings(_Section):
    """All of postillon's settings."""

    storage: StorageSettings = StorageSettings()
    api: ApiSettings = ApiSettings()
    dns: DnsSettings = DnsSettings()
    tls: TlsSettings = TlsSettings()
    delivery: DeliverySettings = DeliverySettings()
    retry: RetrySettings = RetrySettings()
    mta_sts: MtaStsSettings = MtaStsSettings()
    webhooks: WebhookSettings = WebhookSettings()
    dkim: DkimSettings = DkimSettings()
