"""TLS for our SMTP listeners: the server context (TLS 1.2 and later only) and its reload.

Owns loading a PEM certificate chain and key into an ``ssl.SSLContext`` for the server side,
and swapping it for a fresh one on reload (SIGHUP) so renewed certificates apply to new
connections without a restart. A reload that fails keeps the old context and says why.
Must not speak SMTP.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from postillon.errors import ConfigError

# RFC 8996 deprecates TLS 1.0/1.1; RFC 8314 §4.1 asks for current TLS on submission ports.
MIN_TLS_VERSION = ssl.TLSVersion.TLSv1_2


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server context with ``cert_file`` (chain, PEM) and ``key_file``; TLS 1.2+ only.

    Raises ConfigError naming the file when either cannot be read or they do not match.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MIN_TLS_VERSION
    # No renegotiation (a client-triggered CPU sink) and no compression (CRIME).
    context.options |= ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_COMPRESSION
    try:
        context.load_cert_chain(certfile=str(cert_file), keyfile=str(key_file))
    except FileNotFoundError as error:
        raise ConfigError(f"TLS certificate or key not found: {error.filename}") from error
    except (ssl.SSLError, OSError) as error:
        message = f"cannot load TLS certificate {cert_file} with key {key_file}: {error}"
        raise ConfigError(message) from error
    return context


class ServerTls:
    """The current server context for one certificate/key pair; ``reload()`` re-reads them."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self.context = server_context(cert_file, key_file)
        self.reloads = 0

    def reload(self) -> None:
        """Load the files again; new connections use them. Raises ConfigError (keeping the
        old context) when they no longer load."""
        self.context = server_context(self.cert_file, self.key_file)
        self.reloads += 1
