"""Transport failures, each under the temporary branch of postillon.errors.

    ConnectTimeoutError (ConnectError, TimeoutPhaseError)   TCP connect ran past connect_s
    ConnectionLostError (ProtocolError)                      the peer closed or reset mid-session
    TlsHandshakeError (TlsError)                             STARTTLS handshake failed
    DaneAuthenticationError (TlsHandshakeError)              the chain matched no TLSA record
    TlsRequiredError (TlsError)                              verified TLS needed, STARTTLS absent

Must not hold policy: whether a TlsHandshakeError allows a plaintext retry is the caller's mode.
"""

from __future__ import annotations

from postillon.errors import ConnectError, ProtocolError, TimeoutPhaseError, TlsError


class ConnectTimeoutError(ConnectError, TimeoutPhaseError):
    """The TCP connection was not established within the connect timeout."""


class ConnectionLostError(ProtocolError):
    """The server closed or reset the connection while we expected more from it."""


class TlsHandshakeError(TlsError):
    """The TLS handshake after STARTTLS failed (certificate, protocol, timeout or reset)."""


class DaneAuthenticationError(TlsHandshakeError):
    """TLS was set up but the server's chain matches none of its usable TLSA records."""


class TlsRequiredError(TlsError):
    """Verified TLS is required and the server did not offer (or refused) STARTTLS."""
