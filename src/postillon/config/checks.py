"""Warnings about settings that load but that a deployment should still choose.

Invalid settings are errors at load time (:mod:`.loader`); these are the valid-but-doubtful
ones ``check-config`` prints and ``serve`` logs at start: each says what to set and where.
Must not do I/O beyond looking at the file system for the master key and TLS files, nor quote
secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

from postillon.config.settings import Settings

# Names that are never a receiver-acceptable EHLO name (RFC 5321 §4.1.4: a FQDN).
_NOT_FQDN = frozenset({"localhost", "localhost.localdomain"})


def config_warnings(settings: Settings) -> list[str]:
    """What an operator should set before sending real mail, one sentence each."""
    delivery = settings.delivery
    found: list[str] = []
    if "." not in delivery.helo_name or delivery.helo_name.lower() in _NOT_FQDN:
        found.append(
            f"[delivery] helo_name is {delivery.helo_name!r}, not a fully qualified domain name:"
            " receivers refuse such an EHLO and it is the return-path MX host; set it to the"
            " name your sending IPs' PTR records give"
        )
    if not delivery.public_addresses:
        found.append(
            "[delivery] spf_addresses (and bind_addresses) are empty: SPF records will say"
            f" a:{delivery.helo_name}, so that name must resolve to your public sending"
            " addresses; list them in spf_addresses (bind_addresses: the local ones, behind NAT)"
        )
    if delivery.source_addresses:
        found.append(
            "[delivery] source_addresses is deprecated: it sets both bind_addresses (local, to"
            " send from) and spf_addresses (public, for SPF); set those two instead"
        )
    if settings.dashboard.session_secret is None:
        found.append(
            "[dashboard] session_secret is not set: dashboard sessions end at every restart and"
            " nodes disagree; set one (openssl rand -base64 32)"
        )
    if settings.dkim.master_key is None and not settings.master_key_path.exists():
        found.append(
            f"the DKIM master key {settings.master_key_path} does not exist yet: it is created"
            " at first start; back it up, it seals every domain's private key"
        )
    found.extend(_door_warnings(settings))
    return found


def _missing_tls_files(*paths: Path | None) -> list[str]:
    return [
        str(path)
        for path in paths
        if path is not None and not (path.is_file() and os.access(path, os.R_OK))
    ]


def _door_warnings(settings: Settings) -> list[str]:
    """The submission and inbound listeners, and what the return path needs to work."""
    found: list[str] = []
    submission = settings.submission
    if submission.listen or submission.implicit_tls_listen:
        # A pair left unset is a load error already (SubmissionSettings); a file that is not
        # there only shows when the listener loads it at start, and then it refuses to start.
        missing = _missing_tls_files(submission.cert_file, submission.key_file)
        if missing:
            found.append(
                f"[submission] cert_file / key_file: {', '.join(missing)} not found or not"
                " readable: the submission listener (listen / implicit_tls_listen) will refuse"
                " to start; point cert_file and key_file at a readable PEM chain and key"
            )
    if settings.api.public_url is None:
        found.append(
            "[api] public_url is not set: messages carry no one-click unsubscribe link"
            " (RFC 8058 List-Unsubscribe needs a public https URL of this API); set it to the"
            " URL the public reaches the API at"
        )
    if not settings.inbound.listen:
        found.append(
            "[inbound] listen is empty: bounces and complaints that come back by mail to"
            ' pstbounces.<domain> are lost; set it (e.g. ["0.0.0.0:25"]) where the'
            f" return-path MX ({settings.delivery.helo_name}) receives mail on port 25"
        )
    return found
