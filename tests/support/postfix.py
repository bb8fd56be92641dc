"""A throwaway Postfix instance whose smtpd listens on a loopback address, for integration tests.

Owns: the instance's life: a private temp directory (configuration written by
``tests.support.postfix_config``), its master daemon started directly (``master -c DIR -w``,
which skips ``postfix start``'s checks; no chroot, no system daemon touched) and stopped by the
PID in its own pid file, and reading its maillog. By default every accepted message is
discarded (logged ``status=sent``); with ``relay_to`` it is relayed to that host:port (an
``SmtpSink`` with a capture directory, so the bytes can be checked: Postfix prepends its
Received header and changes nothing else). It must not touch /etc/postfix or
/var/spool/postfix. ``SmtpSink`` is re-exported from ``tests.support.smtp_sink``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.certs import CertFiles
from tests.support.listening import wait_listening_sync
from tests.support.postfix_config import write_instance
from tests.support.smtp_sink import SinkCapture, SmtpSink, smtp_sink_binary

__all__ = [
    "PostfixSmtpd",
    "SinkCapture",
    "SmtpSink",
    "postfix_binary",
    "smtp_sink_binary",
    "stop_all",
]

POSTFIX = "postfix"
POSTCONF = "postconf"
# smtpd listens within milliseconds of master starting; a loaded CI machine gets slack.
START_TIMEOUT_S = 15.0
# master exits about 1.7 s after SIGTERM; past this bound it is killed by its PID.
STOP_TIMEOUT_S = 10.0
# Poll interval for master's exit and for maillog lines.
POLL_INTERVAL_S = 0.05


def postfix_binary() -> str | None:
    """The path of the postfix command, or None if Postfix is not installed."""
    return shutil.which(POSTFIX) or shutil.which(POSTFIX, path="/usr/sbin")


class PostfixSmtpd:
    """A private Postfix whose smtpd on ``host:port`` accepts mail for any domain from loopback.

    ``tls`` turns on STARTTLS (``smtpd_tls_security_level = may``) with those files.
    ``relay_to`` relays everything to that ``(host, port)`` instead of discarding it.
    ``main_cf`` adds or overrides main.cf parameters. ``start()``/``stop()`` are blocking;
    ``with`` and ``async with`` both work. Needs root (Postfix's master runs as root).
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        tls: CertFiles | None = None,
        relay_to: tuple[str, int] | None = None,
        myhostname: str = "postfix.test",
        main_cf: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.relay_to = relay_to
        self.myhostname = myhostname
        self.main_cf = dict(main_cf or {})
        self.base_dir: Path | None = None

    @property
    def _dir(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("Postfix instance not started")
        return self.base_dir

    @property
    def maillog_path(self) -> Path:
        """The instance's log file (``maillog_file``)."""
        return self._dir / "maillog"

    def _run_master(self) -> subprocess.CompletedProcess[str]:
        postconf = shutil.which(POSTCONF) or shutil.which(POSTCONF, path="/usr/sbin")
        if postconf is None:
            raise FileNotFoundError("postconf not found (Debian package postfix)")
        daemon_directory = subprocess.run(
            [postconf, "-d", "-h", "daemon_directory"],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=True,
        ).stdout.strip()
        # -w: the foreground process exits 0 only once the background master has initialised.
        return subprocess.run(
            [str(Path(daemon_directory) / "master"), "-c", str(self._dir / "etc"), "-w"],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )

    def start(self) -> None:
        """Write the configuration, start Postfix, return once smtpd listens."""
        if self.base_dir is not None:
            raise RuntimeError("Postfix instance already started")
        self.base_dir = Path(tempfile.mkdtemp(prefix="postillon-postfix-"))
        # Postfix daemons run as user postfix and must traverse to their data directory.
        self.base_dir.chmod(0o755)
        write_instance(
            self.base_dir,
            host=self.host,
            port=self.port,
            tls=self.tls,
            relay_to=self.relay_to,
            myhostname=self.myhostname,
            overrides=self.main_cf,
        )
        result = self._run_master()
        if result.returncode != 0 or not wait_listening_sync(self.host, self.port, START_TIMEOUT_S):
            log = self.maillog()
            self.stop()
            raise RuntimeError(
                f"postfix did not start on {self.host}:{self.port}: "
                f"{result.stdout}{result.stderr}\n{log}"
            )

    def _master_pid(self) -> int | None:
        try:
            return int((self._dir / "spool" / "pid" / "master.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def request_stop(self) -> None:
        """Send SIGTERM to this instance's master (by the PID in its own pid file)."""
        pid = self._master_pid() if self.base_dir is not None else None
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGTERM)

    def stop(self) -> None:
        """Stop this instance's master (SIGTERM, SIGKILL past a bound) and remove its files.

        Master takes about 1.7 s to exit; ``stop_all`` overlaps that for several instances.
        """
        if self.base_dir is None:
            return
        pid = self._master_pid()
        self.request_stop()
        if pid is not None:
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(POLL_INTERVAL_S)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None

    def maillog(self) -> str:
        """The instance's maillog so far ('' if none yet)."""
        try:
            return self.maillog_path.read_text(errors="replace")
        except (FileNotFoundError, RuntimeError):
            return ""

    def delivered_count(self) -> int:
        """How many recipients Postfix logged as ``status=sent`` (discarded or relayed)."""
        return self.maillog().count(" status=sent ")

    async def wait_delivered(self, count: int, timeout_s: float = 10) -> int:
        """Wait until ``delivered_count()`` reaches ``count``; TimeoutError if it does not."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (delivered := self.delivered_count()) < count:
            if loop.time() >= deadline:
                raise TimeoutError(f"postfix logged {delivered} of {count} deliveries")
            await asyncio.sleep(POLL_INTERVAL_S)
        return delivered

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


def stop_all(instances: Iterable[PostfixSmtpd]) -> None:
    """Stop several instances, signalling all first so their shutdowns overlap."""
    pending = list(instances)
    for instance in pending:
        instance.request_stop()
    for instance in pending:
        instance.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
