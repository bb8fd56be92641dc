"""Shared pytest fixtures: the test PKI and real SMTP servers on loopback.

Owns the fixtures every test layer uses: ``pki`` and ``test_dns`` (a real knot server) per
session, ``smtp_receiver`` and ``smtp_sink`` (per test, stopped at teardown), ``postfix_smtpd``
(per session). The servers live in
tests/support; the fixtures' call signatures are in tests/support/fixtures.py. Must not bind
anything but the 127.0.0.x addresses the calling test names.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.certs import CertFiles, TestPki
from tests.support.dns_server import TestDns, running_test_dns
from tests.support.fixtures import PostfixFactory, ReceiverFactory, SmtpSinkFactory
from tests.support.postfix import PostfixSmtpd, postfix_binary, stop_all
from tests.support.receivers import DataHandler, RcptHandler, Receiver
from tests.support.smtp_sink import SmtpSink, smtp_sink_binary


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """One test CA per session; certificates are issued under a session temp directory."""
    directory: Path = tmp_path_factory.mktemp("pki")
    return TestPki(directory)


@pytest.fixture(scope="session")
def test_dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDns]:
    """A real knotd on 127.0.0.53:<free port> for the whole session; tests add their zones."""
    yield from running_test_dns(tmp_path_factory.mktemp("knot"))


@pytest.fixture
async def smtp_receiver() -> AsyncIterator[ReceiverFactory]:
    """Factory of started aiosmtpd Receivers; all are stopped when the test ends."""
    started: list[Receiver] = []

    async def start(
        host: str,
        *,
        port: int = 25,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        hostname: str = "mx.test",
        rcpt_handler: RcptHandler | None = None,
        data_handler: DataHandler | None = None,
    ) -> Receiver:
        receiver = Receiver(
            host,
            port=port,
            tls_context=tls_context,
            require_starttls=require_starttls,
            hostname=hostname,
            rcpt_handler=rcpt_handler,
            data_handler=data_handler,
        )
        await receiver.start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in reversed(started):
        await receiver.stop()


@pytest.fixture
async def smtp_sink(tmp_path: Path) -> AsyncIterator[SmtpSinkFactory]:
    """Factory of started smtp-sink processes; all are stopped when the test ends.

    Skips the test if Postfix's smtp-sink is not installed (``make test`` installs it).
    """
    started: list[SmtpSink] = []

    async def start(
        host: str, port: int = 25, *, options: Sequence[str] = (), capture: bool = False
    ) -> SmtpSink:
        if smtp_sink_binary() is None:
            pytest.skip("smtp-sink not installed (Debian package postfix)")
        capture_dir = tmp_path / f"sink-{host}-{port}" if capture else None
        sink = SmtpSink(host, port, options=options, capture_dir=capture_dir)
        await sink.start()
        started.append(sink)
        return sink

    yield start
    for sink in reversed(started):
        await sink.stop()


@pytest.fixture(scope="session")
def postfix_smtpd() -> Iterator[PostfixFactory]:
    """Factory of running throwaway Postfix instances, one per host, stopped at session end.

    Skips the test if Postfix is not installed (``make test`` installs it).
    """
    running: dict[str, tuple[tuple[object, ...], PostfixSmtpd]] = {}

    def start(
        host: str,
        port: int = 25,
        *,
        tls: CertFiles | None = None,
        relay_to: tuple[str, int] | None = None,
        myhostname: str = "postfix.test",
        main_cf: Mapping[str, str] | None = None,
    ) -> PostfixSmtpd:
        if postfix_binary() is None:
            pytest.skip("postfix not installed (Debian package postfix)")
        overrides = dict(main_cf or {})
        settings: tuple[object, ...] = (
            port,
            tls,
            relay_to,
            myhostname,
            tuple(sorted(overrides.items())),
        )
        if host in running:
            previous_settings, previous = running[host]
            if previous_settings == settings:
                return previous
            previous.stop()
            del running[host]
        instance = PostfixSmtpd(
            host, port, tls=tls, relay_to=relay_to, myhostname=myhostname, main_cf=overrides
        )
        instance.start()
        running[host] = (settings, instance)
        return instance

    yield start
    stop_all(instance for _, instance in running.values())
