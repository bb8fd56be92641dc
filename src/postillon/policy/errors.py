"""Why a policy fetch failed: errors under :mod:`postillon.errors`, all temporary.

A failed fetch never bounces mail: the cache keeps an unexpired policy in force, and without one
the domain is treated as having no policy (RFC 8461 §3.3). Each class also derives from the
general error of its kind (TLS, connect, timeout), so a caller may catch either.

    PolicyFetchError (TemporaryError)
    ├── PolicyConnectError (+ ConnectError)     no address for mta-sts.<domain>, or TCP failed
    ├── PolicyTlsError (+ TlsError)             the certificate did not verify for the host
    ├── PolicyTimeoutError (+ TimeoutPhaseError) the whole fetch ran past fetch_timeout_s
    ├── PolicyHttpError                         not 200 (or an HTTP-level failure)
    │   └── PolicyRedirectError                 3xx: never followed (§3.3)
    ├── PolicyContentTypeError                  not text/plain (§3.2)
    └── PolicyTooLargeError                     body past the 64 KiB cap
"""

from __future__ import annotations

from postillon.errors import ConnectError, TemporaryError, TimeoutPhaseError, TlsError


class PolicyFetchError(TemporaryError):
    """The policy for a domain could not be fetched over HTTPS."""


class PolicyConnectError(PolicyFetchError, ConnectError):
    """``mta-sts.<domain>`` had no address, or no connection could be opened to it."""


class PolicyTlsError(PolicyFetchError, TlsError):
    """The policy host's certificate did not verify for ``mta-sts.<domain>``."""


class PolicyTimeoutError(PolicyFetchError, TimeoutPhaseError):
    """The fetch (connect, request and body) took longer than the configured timeout."""


class PolicyHttpError(PolicyFetchError):
    """The server answered with a status other than 200, or broke HTTP."""


class PolicyRedirectError(PolicyHttpError):
    """The server answered 3xx; RFC 8461 §3.3 forbids following it."""


class PolicyContentTypeError(PolicyFetchError):
    """The body is not ``text/plain`` (RFC 8461 §3.2)."""


class PolicyTooLargeError(PolicyFetchError):
    """The body is longer than the cap; reading stopped there."""
