"""Postfix's smtp-sink on a loopback address: a fast SMTP server that rejects, delays or drops.

Owns: starting /usr/sbin/smtp-sink as a child process, waiting until it listens, stopping it by
its PID, and reading the transactions it dumped. It must not bind anything but the address the
test gives it, and it never stops a process it did not start.

smtp-sink options a test passes through ``options`` (``man smtp-sink``); COMMANDS is a
comma-separated list such as ``RCPT`` or ``MAIL,DATA``; ``CONNECT`` and ``.`` (end of data) count
as commands:

==================  ============================================================================
``-f COMMANDS``     reply 5xx to those commands (``-B TEXT`` sets the reply; implies ``-p``)
``-r COMMANDS``     reply 4xx to those commands (``-b TEXT`` sets the reply; implies ``-p``)
``-q COMMANDS``     drop the connection without replying after those commands
``-Q COMMANDS``     reply ``421`` and disconnect after those commands
``-w SECONDS``      wait before replying to DATA
``-W CMD:SECONDS``  wait before replying to CMD (``CMD:SECONDS:ODDS`` for random multiples)
``-A SECONDS``      after the 354 to DATA, wait, then abort with 550 and read nothing more
``-H SECONDS``      delay the first read after DATA (with ``-T`` to fill the TCP window)
``-p``              do not announce PIPELINING
``-e``              do not announce ESMTP at all (EHLO is refused)
``-E``              do not announce ENHANCEDSTATUSCODES
``-8``              do not announce 8BITMIME
``-h NAME``         hostname in the greeting and the EHLO reply (default ``smtp-sink``)
``-M COUNT``        exit after COUNT messages; ``-n COUNT`` exit after COUNT sessions
``-t SECONDS``      command/response timeout (default 100)
==================  ============================================================================

smtp-sink rejects every instance of a command alike; a test that refuses only some recipients
uses ``tests.support.receivers.Receiver`` with an ``rcpt_handler`` instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from tests.support.listening import wait_listening

SMTP_SINK = "smtp-sink"
# The listen(2) backlog smtp-sink requires as its last argument; plenty for tests.
BACKLOG = 64
# smtp-sink binds in milliseconds; a slow CI machine still does within this bound.
START_TIMEOUT_S = 10.0
# After SIGTERM smtp-sink exits at once; past this bound it is killed.
STOP_TIMEOUT_S = 5.0
# Prefix of each dump file smtp-sink writes (it appends a random hex id).
DUMP_PREFIX = "msg."
# The dump's last header, written by smtp-sink; the message as received follows its lines.
RECEIVED_HEADER = b"Received: from "


def smtp_sink_binary() -> str | None:
    """The path of smtp-sink, or None if Postfix is not installed."""
    return shutil.which(SMTP_SINK) or shutil.which(SMTP_SINK, path="/usr/sbin")


@dataclass(frozen=True)
class SinkCapture:
    """One transaction as smtp-sink dumped it.

    ``data`` is the message as received with LF line ends (smtp-sink rewrites CRLF) and
    without the dump's trailing empty line; ``mail_args`` and ``rcpt_args`` are the command
    arguments as sent (``<a@b.test> SIZE=12``).
    """

    client_addr: str
    helo: str | None
    mail_args: str
    rcpt_args: tuple[str, ...]
    data: bytes


def parse_capture(dump: bytes) -> SinkCapture:
    """Parse one smtp-sink dump file (``man smtp-sink``, DUMP FILE FORMAT)."""
    head, sep, rest = dump.partition(b"\n" + RECEIVED_HEADER)
    if not sep:
        raise ValueError("no smtp-sink Received header in dump")
    lines = rest.split(b"\n")
    # The Received header's continuation lines start with a tab; the message follows them.
    index = 1
    while index < len(lines) and lines[index].startswith(b"\t"):
        index += 1
    data = b"\n".join(lines[index:])
    data = data.removesuffix(b"\n")  # the empty line smtp-sink appends
    fields: dict[str, list[str]] = {}
    for line in head.split(b"\n"):
        name, _, value = line.decode("utf-8", "replace").partition(": ")
        fields.setdefault(name, []).append(value)
    return SinkCapture(
        client_addr=fields.get("X-Client-Addr", [""])[0],
        helo=fields.get("X-Helo-Args", [None])[0],
        mail_args=fields.get("X-Mail-Args", [""])[0],
        rcpt_args=tuple(fields.get("X-Rcpt-Args", [])),
        data=data,
    )


class SmtpSink:
    """smtp-sink listening on ``host:port`` with extra ``options`` (see the module docstring).

    With ``capture_dir``, each transaction is dumped to a file there (``-d``): ``captured()``
    returns the raw dumps, ``captured_messages()`` the parsed ones. Use ``async with`` or
    ``await start()`` / ``await stop()``.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        options: Sequence[str] = (),
        capture_dir: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.options = tuple(options)
        self.capture_dir = capture_dir
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._final_log = ""

    def command(self) -> list[str]:
        """The smtp-sink command line this sink runs."""
        binary = smtp_sink_binary()
        if binary is None:
            raise FileNotFoundError("smtp-sink not found (Debian package postfix)")
        argv = [binary]
        if os.geteuid() == 0:
            # As root smtp-sink insists on -u; root keeps it able to write into pytest's
            # private (0700) temp directories.
            argv += ["-u", "root"]
        if self.capture_dir is not None:
            argv += ["-d", f"{self.capture_dir}/{DUMP_PREFIX}"]
        return [*argv, *self.options, f"inet:{self.host}:{self.port}", str(BACKLOG)]

    async def start(self) -> None:
        """Start smtp-sink and return once it listens; raises RuntimeError if it does not."""
        if self._process is not None:
            raise RuntimeError("smtp-sink already started")
        if self.capture_dir is not None:
            self.capture_dir.mkdir(parents=True, exist_ok=True)
        # Lives as long as the process, closed in stop(): the child writes to it throughout.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = await asyncio.create_subprocess_exec(
            *self.command(), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log
        )
        if not await wait_listening(self.host, self.port, START_TIMEOUT_S) or (
            self._process.returncode is not None
        ):
            await self.stop()
            raise RuntimeError(f"smtp-sink did not listen on {self.host}:{self.port}: {self.log()}")

    async def stop(self) -> None:
        """Terminate the smtp-sink process this object started (by PID) and reap it."""
        process, self._process = self._process, None
        if process is not None:
            if process.returncode is None:
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        self._final_log = self.log()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        """What smtp-sink wrote to stdout and stderr (kept after ``stop()``)."""
        if self._log is None:
            return self._final_log
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def captured(self) -> list[bytes]:
        """The raw dump of every transaction so far, oldest first (needs ``capture_dir``)."""
        if self.capture_dir is None:
            raise RuntimeError("SmtpSink was started without capture_dir")
        files = sorted(
            self.capture_dir.glob(DUMP_PREFIX + "*"), key=lambda p: (p.stat().st_mtime_ns, p.name)
        )
        return [path.read_bytes() for path in files]

    def captured_messages(self) -> list[SinkCapture]:
        """``captured()``, parsed."""
        return [parse_capture(dump) for dump in self.captured()]

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
