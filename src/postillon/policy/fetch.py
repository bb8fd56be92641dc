"""Fetching ``https://mta-sts.<domain>/.well-known/mta-sts.txt`` (RFC 8461 §3.3), with aiohttp.

Owns: the HTTPS client for policy bodies: the policy host resolved through our resolver (never the
system's), its certificate verified for ``mta-sts.<domain>`` against the system CAs plus the
configured extra bundle, no redirects, 200 and ``text/plain`` only, a 64 KiB cap read as a stream,
one timeout over the whole fetch. It must not parse the body (``policy_text.py``) or cache
(``cache.py``); every failure is a :class:`~postillon.policy.errors.PolicyFetchError`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from postillon.config.settings import MtaStsSettings, TlsSettings
from postillon.errors import PostillonError
from postillon.policy.errors import (
    PolicyConnectError,
    PolicyContentTypeError,
    PolicyHttpError,
    PolicyRedirectError,
    PolicyTimeoutError,
    PolicyTlsError,
    PolicyTooLargeError,
)
from postillon.policy.lookups import AddressLookup
from postillon.policy.mx_match import is_valid_host, normalize_host

# RFC 8461 §3.3: the policy host is "mta-sts" under the policy domain, at this well-known path.
POLICY_HOST_LABEL = "mta-sts"
POLICY_PATH = "/.well-known/mta-sts.txt"
# RFC 8461 §3.3 suggests a 64 KiB limit on the body; real policies are a few hundred bytes.
MAX_POLICY_BYTES = 64 * 1024
# Read granularity while streaming the body: small enough that the cap overshoots by little.
READ_CHUNK_BYTES = 8 * 1024
# RFC 8461 §3.2: the media type MUST be text/plain (parameters such as charset are allowed).
POLICY_CONTENT_TYPE = "text/plain"


class _InjectedResolver(AbstractResolver):
    """aiohttp's resolver hook, answered by our :class:`AddressLookup`."""

    def __init__(self, lookup: AddressLookup) -> None:
        self._lookup = lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await self._lookup.addresses(host)
        except PostillonError as exc:
            # aiohttp turns an OSError from the resolver into ClientConnectorDNSError.
            raise OSError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise OSError(f"{host} has no address")
        results: list[ResolveResult] = []
        for text in addresses:
            try:
                version = ipaddress.ip_address(text).version
            except ValueError as exc:
                raise OSError(f"{host}: {text!r} is not an IP address") from exc
            results.append(
                {
                    "hostname": host,
                    "host": text,
                    "port": port,
                    "family": socket.AF_INET6 if version == 6 else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        return None


def policy_url(domain: str, port: int) -> URL:
    """``https://mta-sts.<domain>[:port]/.well-known/mta-sts.txt``."""
    return URL.build(
        scheme="https", host=f"{POLICY_HOST_LABEL}.{domain}", port=port, path=POLICY_PATH
    )


def client_tls_context(tls: TlsSettings) -> ssl.SSLContext:
    """Verifying client context: system CAs plus ``tls.ca_file``, host names checked."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if tls.ca_file is not None:
        context.load_verify_locations(cafile=str(tls.ca_file))
    return context


class PolicyFetcher:
    """Fetches policy bodies; one per process, closed with :meth:`aclose` (or ``async with``)."""

    def __init__(
        self, addresses: AddressLookup, *, settings: MtaStsSettings, tls: TlsSettings
    ) -> None:
        self._addresses = addresses
        self._port = settings.https_port
        self._timeout_s = settings.fetch_timeout_s
        self._tls_context = client_tls_context(tls)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=_InjectedResolver(self._addresses),
                ssl=self._tls_context,
                # Our resolver decides every time; each policy host is fetched rarely.
                use_dns_cache=False,
                force_close=True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                # The body cap must count the bytes on the wire, so no transparent decompression.
                auto_decompress=False,
                trust_env=False,
            )
        return self._session

    async def fetch(self, domain: str) -> bytes:
        """The policy body of ``domain`` (at most :data:`MAX_POLICY_BYTES`).

        Raises :class:`PolicyFetchError` (a subclass saying why) on any failure.
        """
        name = normalize_host(domain)
        if not is_valid_host(name):
            raise PolicyConnectError(f"{domain!r} is not a domain name a policy host can be under")
        url = policy_url(name, self._port)
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._get(url)
        except TimeoutError as exc:
            raise PolicyTimeoutError(f"the MTA-STS policy at {url}", self._timeout_s) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise PolicyTlsError(f"{url.host}: certificate did not verify: {exc}") from exc
        except aiohttp.ClientSSLError as exc:
            raise PolicyTlsError(f"{url.host}: TLS failed: {exc}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise PolicyConnectError(f"{url.host}: cannot connect: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise PolicyHttpError(f"{url}: HTTP failed: {exc!r}") from exc

    async def _get(self, url: URL) -> bytes:
        headers = {"Accept": POLICY_CONTENT_TYPE, "Accept-Encoding": "identity"}
        # RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
        async with self._client().get(url, allow_redirects=False, headers=headers) as response:
            if 300 <= response.status < 400:
                location = response.headers.get("Location", "?")
                raise PolicyRedirectError(f"{url}: redirect {response.status} to {location}")
            if response.status != 200:
                raise PolicyHttpError(f"{url}: status {response.status}, not 200")
            if response.content_type != POLICY_CONTENT_TYPE:
                raise PolicyContentTypeError(
                    f"{url}: Content-Type {response.headers.get('Content-Type')!r}, not text/plain"
                )
            encoding = response.headers.get("Content-Encoding", "identity").lower()
            if encoding != "identity":
                raise PolicyHttpError(f"{url}: Content-Encoding {encoding!r} was not asked for")
            declared = response.content_length
            if declared is not None and declared > MAX_POLICY_BYTES:
                raise PolicyTooLargeError(f"{url}: Content-Length {declared} > {MAX_POLICY_BYTES}")
            body = bytearray()
            async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
                body += chunk
                if len(body) > MAX_POLICY_BYTES:
                    raise PolicyTooLargeError(f"{url}: body longer than {MAX_POLICY_BYTES} bytes")
            return bytes(body)

    async def aclose(self) -> None:
        """Close the HTTP client; the fetcher can still be used afterwards (it reopens)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
