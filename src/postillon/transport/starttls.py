"""The client side of the STARTTLS upgrade on an open connection (RFC 3207).

Owns running the TLS handshake over a :class:`BoundedStreamProtocol` after the server's 220,
within one timeout, and describing the result as :class:`TlsInfo`. Bytes the server sent
before the handshake are dropped first (RFC 3207 §4.2, CVE-2011-0411); the sans-I/O session
drops its own parser buffer when told the handshake succeeded. Must not speak SMTP.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime
from pathlib import Path

from postillon.transport.errors import DaneAuthenticationError, TlsHandshakeError
from postillon.transport.stream import BoundedStreamProtocol
from postillon.transport.tls import (
    Authenticator,
    TlsInfo,
    TlsMode,
    client_context,
    peer_chain_der,
    verification_failure,
)


async def upgrade(
    protocol: BoundedStreamProtocol,
    *,
    mode: TlsMode,
    server_name: str,
    ca_file: Path | None,
    timeout_s: float,
    now: datetime,
    authenticator: Authenticator | None = None,
) -> tuple[TlsInfo, int]:
    """Run the handshake in ``mode``; return what TLS was set up and how many octets received
    before it were discarded.

    VERIFIED lets OpenSSL check the chain and ``server_name``; OPPORTUNISTIC accepts any
    certificate and reports whether it would have verified (at ``now``). DANE hands the
    chain to ``authenticator`` and raises DaneAuthenticationError when it refuses, before any
    SMTP command goes over the channel. Raises TlsHandshakeError (temporary) on any failure;
    the connection is then unusable.
    """
    dropped = protocol.discard()
    transport = protocol.transport
    if transport is None or transport.is_closing():
        raise TlsHandshakeError("TLS handshake failed: connection closed")
    context = client_context(mode, ca_file)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            tls_transport = await loop.start_tls(
                transport,
                protocol,
                context,
                server_hostname=server_name,
                ssl_handshake_timeout=timeout_s,
            )
    except ssl.SSLCertVerificationError as error:
        raise TlsHandshakeError(
            f"certificate of {server_name} did not verify: {error.verify_message}"
        ) from error
    except TimeoutError:
        raise TlsHandshakeError(f"TLS handshake timed out after {timeout_s:g}s") from None
    except (ssl.SSLError, OSError) as error:
        raise TlsHandshakeError(f"TLS handshake failed: {error}") from error
    if tls_transport is None:
        raise TlsHandshakeError("TLS handshake failed: connection closed")
    protocol.switch_transport(tls_transport)
    ssl_object = tls_transport.get_extra_info("ssl_object")
    assert isinstance(ssl_object, ssl.SSLObject)
    cipher = ssl_object.cipher()
    dane_tlsa = None
    if mode is TlsMode.VERIFIED:
        reason = None  # OpenSSL verified the chain and the name during the handshake
    elif mode is TlsMode.DANE and authenticator is not None:
        check = authenticator(peer_chain_der(ssl_object), now)
        if not check.ok:
            raise DaneAuthenticationError(f"DANE: {server_name}: {check.detail}")
        reason, dane_tlsa = None, check.detail
    else:
        reason = verification_failure(peer_chain_der(ssl_object), server_name, ca_file, now)
    info = TlsInfo(
        used=True,
        version=ssl_object.version(),
        cipher=cipher[0] if cipher else None,
        verified=reason is None,
        reason=reason,
        dane_tlsa=dane_tlsa,
    )
    return info, dropped
