"""The settings model: every section and key postillon understands, with defaults.

Every model forbids unknown keys (a typo is an error that names the key, never a silent default)
and is frozen (settings are passed down, never changed). Key names here are the documented
contract of the config file; new keys may join, existing ones keep their names.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

# Shown in place of a secret (pydantic's own mask for SecretStr).
REDACTED = "**********"
# The password of a URL's userinfo (scheme://user:PASSWORD@host) and password=... parameters
# (libpq keyword form in a query string).
_URL_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")
_PARAM_PASSWORD = re.compile(r"(?i)([?&]password=)[^&]*")


def redact_url(url: str) -> str:
    """``url`` with any password masked (the URL is still useful to read: host, database)."""
    masked = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}@", url)
    return _PARAM_PASSWORD.sub(lambda m: m.group(1) + REDACTED, masked)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The data directory when neither the config nor POSTILLON_HOME names one (the loader makes it
# absolute: next to the config file, else in the working directory).
DEFAULT_DATA_DIR = Path("var")
SQLITE_FILE = "postillon.db"
MASTER_KEY_FILE = "dkim-master.key"


class StorageSettings(_Section):
    """Where state lives: ``data_dir`` (the SQLite file and the DKIM master key by default) and
    the queue, ``sqlite:///path`` (default ``<data_dir>/postillon.db``) or ``postgresql://...``."""

    data_dir: Path = DEFAULT_DATA_DIR
    url: str = ""

    @model_validator(mode="before")
    @classmethod
    def _url_defaults_to_data_dir(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("url"):
            data_dir = Path(data.get("data_dir") or DEFAULT_DATA_DIR)
            data = {**data, "url": f"sqlite:///{data_dir / SQLITE_FILE}"}
        return data

    @field_serializer("url")
    def _url_without_password(self, url: str) -> str:
        return redact_url(url)

    def redacted_url(self) -> str:
        """``url`` with its password masked: what logs and ``check-config`` show."""
        return redact_url(url=self.url)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # repr() and str() (in tracebacks, debug logs) show the URL without its password.
        yield "url", redact_url(self.url)


def check_listen(value: str) -> str:
    """``host:port`` (IPv6 as ``[::1]:8025``), checked at load so a typo stops the start."""
    host, sep, port = value.rpartition(":")
    if not sep or not host.strip("[]") or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port (IPv6 as [addr]:port)")
    return value


class ApiSettings(_Section):
    """The HTTP API and dashboard listener."""

    listen: str = "127.0.0.1:8025"
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # Per API key: sustained requests per second and the burst allowed at once (429 beyond).
    rate_per_s: float = Field(default=10.0, gt=0)
    rate_burst: int = Field(default=50, ge=1)
    # Where the public reaches this API (one-click unsubscribe links: <public_url>/u/<token>),
    # e.g. "https://mail.example.com"; None: messages cannot ask for one-click unsubscribe.
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// behind a TLS proxy)")
        if value is not None and any(c in value for c in '<>" \r\n,'):
            raise ValueError("must be a plain URL (no spaces, quotes, commas or brackets)")
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return check_listen(value)

    # Recipients (to + cc + bcc) one message may have: 50 as Amazon SES, Postmark and Resend
    # allow; at most 1000 (Mailgun's and SendGrid's ceiling). A batch holds up to 100 messages.
    max_recipients_per_message: int = Field(default=50, ge=1, le=1000)
    # Reverse proxies (addresses or CIDRs) whose X-Forwarded-For and X-Forwarded-Proto are
    # believed: the client address (sign-in throttling) and https (Secure cookies) come from
    # them. Empty: none, every client is the peer that connected (never an environment default).
    trusted_proxies: tuple[str, ...] = ()


class DnsSettings(_Section):
    """The resolver used for MX, A/AAAA, TXT (MTA-STS, DKIM checks) lookups."""

    # "address:port" (IPv6 as "[::1]:53"); empty means the system resolver.
    nameservers: tuple[str, ...] = ()
    timeout_s: float = Field(default=5.0, gt=0)
    cache_max_entries: int = Field(default=10_000, ge=0)
    # True declares the name servers above trusted DNSSEC-validating resolvers reached over a
    # trusted path (loopback): their AD bit marks answers secure, which enables DANE.
    dnssec: bool = False


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
    """How postillon reaches MX hosts.

    ``bind_addresses`` are local addresses outbound connections bind to; ``spf_addresses`` are
    the public addresses receivers see, which sender domains' SPF records authorize. Behind NAT
    they differ; when ``spf_addresses`` is empty the bind addresses are taken as public. The
    deprecated ``source_addresses`` sets both (it was one key for the two roles).
    """

    # Our name in EHLO, in loop detection and as the return-path MX host: a name whose A record
    # and the sending IPs' PTR records agree (receivers refuse an EHLO that is not a FQDN).
    # The loader defaults it to the machine's FQDN; built directly, the node name.
    helo_name: str = Field(default_factory=lambda: os.uname().nodename)
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    # Local addresses to bind outbound connections to (round robin); empty: the kernel chooses.
    bind_addresses: tuple[str, ...] = ()
    # The public addresses our mail leaves from, authorized by the SPF records we ask customers
    # to publish; empty: the bind addresses.
    spf_addresses: tuple[str, ...] = ()
    # Deprecated: sets both bind_addresses and spf_addresses when those are not set.
    source_addresses: tuple[str, ...] = ()
    # Addresses that are us, besides the two lists above: an MX resolving here is a loop (5.4.6).
    own_addresses: tuple[str, ...] = ()
    # Networks (CIDRs) of private, loopback, link-local ... MX addresses we may deliver to; by
    # default none: a tenant must not reach internal SMTP servers through us (a bounce, 5.4.4).
    allow_private_destinations: tuple[str, ...] = ()
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

    @field_validator("bind_addresses", "spf_addresses", "source_addresses", "own_addresses")
    @classmethod
    def _ip_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(text.strip() for text in value)
        for text in cleaned:
            try:
                ipaddress.ip_address(text)
            except ValueError:
                raise ValueError(f"{text!r} is not an IP address") from None
        return cleaned

    @field_validator("helo_name")
    @classmethod
    def _helo_name_is_a_name(cls, value: str) -> str:
        name = value.strip().rstrip(".")
        if not name or any(not label or len(label) > 63 for label in name.split(".")):
            raise ValueError(f"{value!r} is not a host name; set it to this MTA's FQDN")
        return name

    @model_validator(mode="before")
    @classmethod
    def _source_addresses_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("source_addresses"):
            data = dict(data)
            data.setdefault("bind_addresses", data["source_addresses"])
            data.setdefault("spf_addresses", data["source_addresses"])
        return data

    @property
    def public_addresses(self) -> tuple[str, ...]:
        """The addresses SPF must authorize: ``spf_addresses``, else ``bind_addresses``."""
        return self.spf_addresses or self.bind_addresses


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
    master_key: SecretStr | None = None
    # Default: dkim-master.key in ``[storage] data_dir``.
    master_key_file: Path | None = None
    # Add an Ed25519 signature (RFC 8463) after the RSA one; needs a second published key.
    ed25519: bool = False


# An HMAC-SHA256 key shorter than its 256-bit output weakens it.
MIN_SESSION_SECRET_OCTETS = 32


def session_secret_octets(text: str) -> bytes:
    """The octets of a base64 session secret; raises ValueError (never quoting the value)
    when it is not base64 or shorter than :data:`MIN_SESSION_SECRET_OCTETS`."""
    try:
        octets = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 (e.g. of 32 random octets)") from None
    if len(octets) < MIN_SESSION_SECRET_OCTETS:
        raise ValueError(
            f"must be the base64 of at least {MIN_SESSION_SECRET_OCTETS} octets"
            f" (this one holds {len(octets)})"
        )
    return octets


class DashboardSettings(_Section):
    """The web dashboard served at /dashboard."""

    # The base64 of at least 32 octets signing session cookies; when absent, a random secret
    # per process (a restart signs everyone out, and nodes behind one load balancer disagree).
    # Make one with: openssl rand -base64 32
    session_secret: SecretStr | None = None
    # Failed sign-ins allowed per client address, and per address and email or key prefix, in
    # the window below, before sign-in answers 429 (counted in memory on each node).
    sign_in_attempts: int = Field(default=10, ge=1)
    sign_in_window_s: float = Field(default=900.0, gt=0)
    # Where people reach the dashboard, e.g. "https://mail.example.com/dashboard"; behind a
    # proxy that ends TLS the request looks like plain HTTP, and an https URL here still marks
    # session cookies Secure.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")

    @field_validator("session_secret")
    @classmethod
    def _secret_is_long_base64(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            session_secret_octets(value.get_secret_value())
        return value

    def secret_octets(self) -> bytes | None:
        """The decoded ``session_secret``, or None when it is not set."""
        if self.session_secret is None:
            return None
        return session_secret_octets(self.session_secret.get_secret_value())


class InboundSettings(_Section):
    """The return path's SMTP listener: bounces (DSN), complaints (ARF) sent back to
    ``bounces+<id>-<tag>@pstbounces.<domain>``. Port 25 in production (the MX of the
    return-path domain points at ``delivery.helo_name``); empty ``listen`` runs none."""

    # e.g. ["0.0.0.0:25", "[::]:25"]; run by the api and all roles.
    listen: tuple[str, ...] = ()
    # STARTTLS is offered when both are set (PEM chain and key).
    cert_file: Path | None = None
    key_file: Path | None = None
    # SIZE: a report quotes the original message; 10 MiB covers any we sent with room.
    max_message_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Concurrent connections per client address and in all (a public port 25).
    max_connections_per_address: int = Field(default=10, ge=1)
    max_connections: int = Field(default=500, ge=1)
    # Reports taken in one connection before 421 (bounded work per connection).
    max_reports_per_connection: int = Field(default=100, ge=1)
    # A client silent this long is cut (RFC 5321 §4.5.3.2.7: at least 5 minutes), and no
    # session lasts longer than total_s.
    idle_timeout_s: float = Field(default=300.0, gt=0)
    total_timeout_s: float = Field(default=1800.0, gt=0)

    @field_validator("listen")
    @classmethod
    def _listen_is_host_port(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            host, colon, port = item.rpartition(":")
            if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port, got {item!r}")
        return value

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> InboundSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (set both or neither)")
        return self


class SubmissionSettings(_Section):
    """SMTP submission (RFC 6409): AUTH with an API key as the password, only over TLS."""

    # "host:port" addresses; empty (the default) serves no submission. ``listen`` offers
    # STARTTLS (port 587), ``implicit_tls_listen`` starts with TLS (RFC 8314, port 465).
    listen: tuple[str, ...] = ()
    implicit_tls_listen: tuple[str, ...] = ()
    # PEM certificate chain and key; required when any listener is set (no plaintext AUTH,
    # ever). Re-read on SIGHUP.
    cert_file: Path | None = None
    key_file: Path | None = None
    # The name in our greeting and EHLO reply; default: the machine's host name.
    hostname: str | None = None
    # RFC 5321 §4.5.3.1.8: at least 100 recipients per message must be accepted.
    max_recipients: int = Field(default=100, ge=100)
    max_connections_per_address: int = Field(default=20, ge=1)
    # Refused commands per session before 421 (Postfix's hard limit is 20).
    max_errors: int = Field(default=10, ge=1)
    # RFC 5321 §4.5.3.2.7 asks servers to wait 5 minutes for a command.
    idle_timeout_s: float = Field(default=300.0, gt=0)
    session_timeout_s: float = Field(default=1800.0, gt=0)
    # Failed AUTH per client address within the window before AUTH answers 454 4.7.0.
    auth_failures: int = Field(default=5, ge=1)
    auth_failure_window_s: float = Field(default=300.0, gt=0)

    @field_validator("listen", "implicit_tls_listen")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_listen(address) for address in value)

    @model_validator(mode="after")
    def _tls_when_listening(self) -> SubmissionSettings:
        if (self.listen or self.implicit_tls_listen) and self.cert_file is None:
            raise ValueError(
                "cert_file: submission listeners need a TLS certificate (AUTH is never offered"
                " in plaintext); set cert_file and key_file, or leave listen empty"
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("key_file: cert_file and key_file go together")
        return self


# RFC 2606 §2: ".invalid" is never delegated, so the simulator domain can never be resolved
# nor collide with a real one.
DEFAULT_SANDBOX_DOMAIN = "simulator.postillon.invalid"


class SandboxSettings(_Section):
    """The simulator domain: mail to its addresses (delivered@, bounced@, deferred@,
    complained@, suppressed@) goes through the queue, attempts and events with simulated
    replies and never touches the network."""

    domain: str = DEFAULT_SANDBOX_DOMAIN

    @field_validator("domain")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.strip().rstrip(".").lower()


class MetricsSettings(_Section):
    """Prometheus metrics at ``/metrics``: on the API listener, or on their own ``listen``."""

    # "host:port" of a separate listener for /metrics; empty: served on the API listener.
    listen: str = ""

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return check_listen(value) if value else value


class TlsRptSettings(_Section):
    """SMTP TLS Reporting (RFC 8460): daily reports to the domains that ask for them.

    Reports go out once per UTC day and policy domain, to the ``rua`` of its ``_smtp._tls``
    record: https by POST, mailto through our own queue, From ``from_address`` in
    ``from_domain`` (a verified sender domain of ``account``, whose DKIM key signs them).
    """

    enabled: bool = False
    organization_name: str = ""
    contact_info: str = ""
    from_domain: str = ""
    from_localpart: str = "tlsrpt-noreply"
    account: str = ""
    # How often a worker checks whether yesterday's reports are due (and retries failed ones).
    check_interval_s: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> TlsRptSettings:
        if self.enabled:
            for key in ("organization_name", "contact_info", "from_domain", "account"):
                if not getattr(self, key).strip():
                    raise ValueError(f"tlsrpt.{key} is required when tlsrpt.enabled is true")
        return self


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
    dashboard: DashboardSettings = DashboardSettings()
    submission: SubmissionSettings = SubmissionSettings()
    sandbox: SandboxSettings = SandboxSettings()
    metrics: MetricsSettings = MetricsSettings()
    inbound: InboundSettings = InboundSettings()
    tlsrpt: TlsRptSettings = TlsRptSettings()

    @property
    def master_key_path(self) -> Path:
        """The DKIM master key file: ``[dkim] master_key_file``, else in the data directory."""
        return self.dkim.master_key_file or self.storage.data_dir / MASTER_KEY_FILE
