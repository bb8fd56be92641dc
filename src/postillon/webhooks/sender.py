"""One webhook HTTP POST, to the addresses the SSRF guard vetted and nowhere else (aiohttp).

Owns the network half of a delivery attempt. For each send it resolves the host itself (an
injected :class:`~postillon.webhooks.guard.AddressResolver`), vets the URL and every address with
the :class:`~postillon.webhooks.guard.TargetGuard`, then hands aiohttp a resolver that answers
only the vetted addresses: the connection goes to an address that was checked, and a DNS answer
changing in between (rebinding) cannot redirect it. The Host header and TLS SNI stay the URL's
host, so virtual hosting and certificate checks work. Redirects are never followed (Standard
Webhooks: a 3xx is a failure); proxies from the environment are ignored; at most
:data:`MAX_SNIPPET_BYTES` of the response are read. Every failure becomes a
:class:`~postillon.webhooks.result.DeliveryResult`, never an exception.
It must not sign, decide retries (``retry.py``) or write the delivery log.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping, Sequence

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from postillon.clock import Clock
from postillon.dns.special_addresses import IPAddress
from postillon.errors import PostillonError
from postillon.webhooks.errors import UnsafeTargetError
from postillon.webhooks.guard import AddressResolver, TargetGuard, VettedTarget
from postillon.webhooks.result import DeliveryResult, FailureKind
from postillon.webhooks.retry_after import parse_retry_after

# A receiver that does not accept a TCP connection in 5 s is down; waiting longer only ties up
# a worker.
CONNECT_TIMEOUT_S = 5.0
# The whole attempt (resolve, connect, TLS, request, snippet). The spec suggests 15-30 s so the
# receiver can process before answering; we take the short end.
REQUEST_TIMEOUT_S = 15.0
# What the delivery log keeps of a response body: enough for an error message, never a page.
MAX_SNIPPET_BYTES = 1024
USER_AGENT = "postillon-webhooks/1"
CONTENT_TYPE = "application/json"


class SystemResolver:
    """:class:`AddressResolver` on the event loop's ``getaddrinfo`` (the system's resolver)."""

    async def addresses(self, host: str) -> list[str]:
        """Every IPv4/IPv6 address of ``host``, in the resolver's order, without repeats."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        seen: dict[str, None] = {}
        for _family, _type, _proto, _name, sockaddr in infos:
            seen[str(sockaddr[0])] = None
        return list(seen)


class _VettedResolver(AbstractResolver):
    """aiohttp's resolver hook, answering the vetted addresses for the vetted host only."""

    def __init__(self, host: str, addresses: Sequence[IPAddress]) -> None:
        self._host = host
        self._addresses = tuple(addresses)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        if host.lower().rstrip(".") != self._host:
            raise OSError(f"{host} was not vetted")  # aiohttp must never ask for another host
        results: list[ResolveResult] = []
        for address in self._addresses:
            af = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            if family not in (socket.AF_UNSPEC, af):
                continue
            results.append(
                {
                    "hostname": host,
                    "host": str(address),
                    "port": port,
                    "family": af,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not results:
            raise OSError(f"{host} has no vetted address of family {family!r}")
        return results

    async def close(self) -> None:
        return None


class WebhookSender:
    """Sends signed bodies; stateless between sends (one short-lived connection each)."""

    def __init__(
        self,
        guard: TargetGuard,
        *,
        clock: Clock,
        resolver: AddressResolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self._guard = guard
        self._clock = clock
        self._resolver: AddressResolver = resolver or SystemResolver()
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._connect_timeout_s = connect_timeout_s
        self._timeout_s = timeout_s

    async def send(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        content_type: str = CONTENT_TYPE,
    ) -> DeliveryResult:
        """POST ``body`` with ``headers`` (the webhook-* ones) to ``url``; never raises.

        ``content_type`` is JSON for webhooks; TLS reports send application/tlsrpt+gzip.
        """
        attempted_at = self._clock.now()
        start = self._clock.monotonic()

        def done(
            failure: FailureKind | None,
            error: str | None,
            status: int | None = None,
            response: tuple[str, float | None] = ("", None),
        ) -> DeliveryResult:
            snippet, retry_after_s = response
            return DeliveryResult(
                attempted_at=attempted_at,
                status=status,
                latency_ms=max(0, round((self._clock.monotonic() - start) * 1000)),
                snippet=snippet,
                error=error,
                failure=failure,
                retry_after_s=retry_after_s,
            )

        try:
            async with asyncio.timeout(self._timeout_s):
                try:
                    target = await self._guard.resolve_and_vet(url, self._resolver)
                except UnsafeTargetError as exc:
                    return done(FailureKind.UNSAFE_TARGET, str(exc))
                except (OSError, PostillonError) as exc:
                    return done(FailureKind.DNS, f"cannot resolve: {exc}")
                status, reply_headers, snippet = await self._post(
                    target, body, {**headers, "Content-Type": content_type}
                )
        except TimeoutError:
            return done(FailureKind.TIMEOUT, f"no answer within {self._timeout_s:g}s")
        except aiohttp.ClientConnectorCertificateError as exc:
            return done(FailureKind.TLS, f"certificate did not verify: {exc.certificate_error}")
        except aiohttp.ClientSSLError as exc:
            return done(FailureKind.TLS, f"TLS failed: {exc}")
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
            return done(FailureKind.CONNECT, str(exc) or type(exc).__name__)
        except aiohttp.ClientError as exc:
            return done(FailureKind.PROTOCOL, str(exc) or type(exc).__name__)
        answer = (snippet, parse_retry_after(reply_headers.get("Retry-After"), attempted_at))
        if 200 <= status < 300:
            return done(None, None, status, answer)
        if 300 <= status < 400:
            location = reply_headers.get("Location", "?")[:MAX_SNIPPET_BYTES]
            return done(
                FailureKind.REDIRECT, f"redirect to {location} not followed", status, answer
            )
        return done(FailureKind.HTTP_STATUS, f"HTTP {status}", status, answer)

    async def _post(
        self, target: VettedTarget, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, Mapping[str, str], str]:
        connector = aiohttp.TCPConnector(
            resolver=_VettedResolver(target.url.host, target.addresses),
            ssl=self._ssl_context,
            use_dns_cache=False,  # the vetted answer is for this send only
            force_close=True,
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout_s)
        all_headers = {
            "Content-Type": CONTENT_TYPE,
            **headers,
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",  # the snippet is read raw, never decompressed
        }
        async with (
            aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,  # never an environment proxy: it would resolve the host itself
            ) as session,
            session.post(
                target.url.url, data=body, headers=all_headers, allow_redirects=False
            ) as response,
        ):
            snippet = await _read_snippet(response)
            return response.status, response.headers.copy(), snippet


async def _read_snippet(response: aiohttp.ClientResponse) -> str:
    data = bytearray()
    while len(data) < MAX_SNIPPET_BYTES:
        chunk = await response.content.read(MAX_SNIPPET_BYTES - len(data))
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace")
