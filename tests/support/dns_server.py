"""A real authoritative DNS server for tests: Debian's Knot (knotd) serving zones on loopback.

Owns: a private knotd (its own config, run directory, database and zone files under a temp
directory), listening on 127.0.0.53 at a free port picked when it starts (never 53, so parallel
runs do not collide); writing zones from text a test gives; reloading them while it runs
(``knotc zone-reload``, ``knotc reload`` for new zones); stopping knotd by its PID. It must not
touch /etc/knot or /var/lib/knot, bind anything but its one address, or stop a process it did
not start.

Use (sync or ``async with``; a session fixture ``test_dns`` in tests/integration/dns/conftest.py
does this once per session, and any other conftest can copy its three lines)::

    with TestDns(tmp_dir) as server:
        origin = server.new_origin("mx")             # "mx-1.test", unique on this server
        server.add_zone(origin, '''
            @    MX 10 mx1
            mx1  A  127.0.0.61
        ''')
        settings = DnsSettings(nameservers=(server.nameserver,))   # "127.0.0.53:PORT"
        ...
        server.add_zone(origin, "@ MX 20 mx2\\nmx2 A 127.0.0.62")  # replaces the zone, live

Zone text is master-file syntax (RFC 1035 §5) relative to the origin; ``add_zone`` prepends
``$ORIGIN``, ``$TTL`` (``ttl``), an SOA whose MINIMUM and TTL are ``negative_ttl`` (the RFC 2308
negative-caching TTL) and a serial that grows on every write, and an NS, unless the text has
its own SOA.

Failures, as Knot really gives them:

- SERVFAIL: ``add_servfail_zone(origin)`` configures a zone whose zone file does not parse.
  Knot keeps the zone configured but unloaded and answers SERVFAIL for every name in it.
  (It must be a new origin: a zone that loaded once keeps serving its last good contents.)
- REFUSED: any name outside every configured zone (e.g. ``nothing.invalid``).
- Timeout: not from this server; a test needs a socket that never answers for that.

Knot is authoritative only: a CNAME whose target is in another zone is answered with the CNAME
alone (no chasing, no SOA); the resolver under test must follow it.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from tests.support.listening import is_listening
from tests.support.processes import stop_process

__all__ = ["DNS_ADDRESS", "TestDns", "knotd_binary", "running_test_dns"]

KNOTD = "knotd"
KNOTC = "knotc"
# The loopback address reserved for the test DNS server.
DNS_ADDRESS = "127.0.0.53"
# knotd binds and loads small zones in tens of milliseconds; a loaded CI machine gets slack.
START_TIMEOUT_S = 15.0
# knotc's own timeout for one control command.
KNOTC_TIMEOUT_S = 10
# Poll interval while waiting for knotd to listen, load zones or exit.
POLL_INTERVAL_S = 0.02
# A free port is picked by binding port 0; another process may take it before knotd binds,
# so starting is retried this many times with a new port.
START_ATTEMPTS = 3
# Defaults for generated zones: a TTL tests can outlast with a FakeClock, and a negative TTL
# (SOA MINIMUM, RFC 2308 §5) shorter than it, so the two are told apart.
DEFAULT_TTL_S = 300
DEFAULT_NEGATIVE_TTL_S = 60
# A line that Knot's zone parser rejects: the zone stays unloaded and answers SERVFAIL.
UNPARSABLE_ZONE = "this is not a resource record\n"
# How much of knotd's log an error message quotes.
LOG_TAIL_BYTES = 4000
_SOA_RE = re.compile(r"(^|\s)SOA(\s|$)", re.MULTILINE)
_SERIAL_RE = re.compile(r"serial: (\d+)")


def knotd_binary() -> str | None:
    """The path of knotd, or None when Knot (Debian package knot) is not installed."""
    return shutil.which(KNOTD) or ("/usr/sbin/knotd" if Path("/usr/sbin/knotd").exists() else None)


def _free_port(address: str) -> int:
    """A port free for both TCP and UDP on ``address`` (Knot listens on both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((address, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((address, port))
                except OSError:
                    continue
                return port
    raise RuntimeError(f"no free TCP+UDP port on {address}")


def _absolute(origin: str) -> str:
    return origin.strip().rstrip(".").lower() + "."


class _KnotExitedError(RuntimeError):
    """knotd exited on its own (its log says why)."""


class TestDns:
    """A knotd serving test zones on ``DNS_ADDRESS``; see the module docstring."""

    __test__ = False  # a helper, not a pytest test class

    def __init__(self, directory: Path | None = None, *, address: str = DNS_ADDRESS) -> None:
        self.address = address
        self.port = 0
        self._own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="postillon-knot-"))
        # absolute origin -> serial of its current text (None: meant to fail, SERVFAIL)
        self._zones: dict[str, int | None] = {}
        self._serials = itertools.count(1)
        self._names = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None
        self._log_mark = 0  # log size before the last zone change: where its errors start

    @property
    def nameserver(self) -> str:
        """``"127.0.0.53:PORT"``, the form of the ``[dns] nameservers`` setting."""
        if self.port == 0:
            raise RuntimeError("TestDns is not started")
        return f"{self.address}:{self.port}"

    @property
    def _socket(self) -> Path:
        return self.directory / "knot.sock"

    @property
    def _config(self) -> Path:
        return self.directory / "knot.conf"

    @property
    def log_path(self) -> Path:
        """knotd's log (zone load errors are explained here)."""
        return self.directory / "knot.log"

    def _zone_file(self, origin: str) -> Path:
        return self.directory / "zones" / f"{origin.rstrip('.')}.zone"

    def new_origin(self, label: str = "zone") -> str:
        """A zone name not used before on this server, e.g. ``"mx-3.test"``."""
        return f"{label}-{next(self._names)}.test"

    def add_zone(
        self,
        origin: str,
        records: str,
        *,
        ttl: int = DEFAULT_TTL_S,
        negative_ttl: int = DEFAULT_NEGATIVE_TTL_S,
    ) -> None:
        """Serve ``records`` (master-file text relative to ``origin``) as zone ``origin``.

        Before :meth:`start`, the zone is loaded at start; while running, a new zone is added
        by a config reload and an existing one is replaced by a zone reload. Returns when Knot
        serves the new contents.
        """
        absolute = _absolute(origin)
        body = textwrap.dedent(records).strip() + "\n"
        serial = next(self._serials)
        header = f"$ORIGIN {absolute}\n$TTL {ttl}\n"
        if not _SOA_RE.search(body):
            header += (
                f"@ {negative_ttl} SOA ns.{absolute} hostmaster.{absolute} "
                f"{serial} 3600 600 86400 {negative_ttl}\n"
                f"@ NS ns.{absolute}\n"
            )
        self._write_zone(absolute, header + body, serial)

    def add_servfail_zone(self, origin: str) -> None:
        """Configure ``origin`` so that every name in it is answered SERVFAIL.

        Its zone file does not parse, so Knot keeps the zone unloaded. ``origin`` must be new.
        """
        absolute = _absolute(origin)
        if absolute in self._zones:
            raise ValueError(f"{absolute} already loaded; a SERVFAIL zone must be new")
        self._write_zone(absolute, UNPARSABLE_ZONE, None)

    def _write_zone(self, origin: str, text: str, serial: int | None) -> None:
        self._log_mark = self._log_size()
        path = self._zone_file(origin)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        is_new = origin not in self._zones
        self._zones[origin] = serial
        if self._process is None:
            return
        if is_new:
            self._write_config()
            self._knotc("reload")
        elif serial is not None:
            self._knotc("-b", "zone-reload", origin)
        if serial is not None:
            self._wait_serials({origin: serial}, time.monotonic() + START_TIMEOUT_S)

    def _write_config(self) -> None:
        zones = "".join(f"  - domain: {origin}\n" for origin in self._zones)
        zone_section = f"zone:\n{zones}" if zones else ""
        d = self.directory
        self._config.write_text(
            f"""\
server:
    rundir: "{d}"
    listen: {self.address}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{self._socket}"
database:
    storage: "{d / "db"}"
log:
  - target: "{self.log_path}"
    any: info
    control: warning
template:
  - id: default
    storage: "{d / "zones"}"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
{zone_section}"""
        )

    def start(self) -> None:
        """Start knotd and wait until it serves every zone added so far.

        Skips the calling test if knotd is not installed.
        """
        binary = knotd_binary()
        if binary is None:
            pytest.skip("knotd not installed (Debian package knot)")
        if self._process is not None:
            raise RuntimeError("TestDns already started")
        (self.directory / "zones").mkdir(parents=True, exist_ok=True)
        (self.directory / "db").mkdir(parents=True, exist_ok=True)
        for attempt in range(START_ATTEMPTS):
            self._log_mark = self._log_size()
            self.port = _free_port(self.address)
            self._write_config()
            self._socket.unlink(missing_ok=True)
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    [binary, "-c", str(self._config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                self._wait_ready()
                return
            except _KnotExitedError:
                # Most likely another process took the port between picking and binding.
                self._kill()
                if attempt == START_ATTEMPTS - 1:
                    raise
            except BaseException:
                self._kill()
                raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self._socket.exists() and is_listening(self.address, self.port)):
            self._check_alive()
            if time.monotonic() >= deadline:
                raise RuntimeError(f"knotd did not listen on {self.nameserver}\n{self._log()}")
            time.sleep(POLL_INTERVAL_S)
        wanted = {origin: serial for origin, serial in self._zones.items() if serial is not None}
        self._wait_serials(wanted, deadline)

    def _wait_serials(self, wanted: dict[str, int], deadline: float) -> None:
        for origin, serial in wanted.items():
            while self._loaded_serial(origin) != serial:
                self._check_alive()
                if f"[{origin}] zone event 'load' failed" in self._log(self._log_mark):
                    raise RuntimeError(f"knotd could not load {origin}\n{self._log()}")
                if time.monotonic() >= deadline:
                    message = f"knotd did not load {origin} serial {serial}"
                    raise RuntimeError(f"{message}\n{self._log()}")
                time.sleep(POLL_INTERVAL_S)

    def _loaded_serial(self, origin: str) -> int | None:
        result = self._knotc("zone-status", origin, check=False)
        match = _SERIAL_RE.search(result.stdout)
        return int(match.group(1)) if match else None

    def _knotc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [
            shutil.which(KNOTC) or "/usr/sbin/knotc",
            "-s",
            str(self._socket),
            "-t",
            str(KNOTC_TIMEOUT_S),
            *args,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result

    def _check_alive(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            raise _KnotExitedError(f"knotd exited with {self._process.returncode}\n{self._log()}")

    def _log_size(self) -> int:
        with contextlib.suppress(OSError):
            return self.log_path.stat().st_size
        return 0

    def _log(self, since: int | None = None) -> str:
        """knotd's log from byte ``since`` on, or its last few KiB."""
        with contextlib.suppress(OSError):
            data = self.log_path.read_bytes()
            tail = data[since:] if since is not None else data[-LOG_TAIL_BYTES:]
            return tail.decode(errors="replace")
        return ""

    def stop(self) -> None:
        """Stop knotd by its PID (SIGTERM, then SIGKILL past a bound); idempotent."""
        self._kill()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _kill(self) -> None:
        process, self._process = self._process, None
        stop_process(process)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        # Starting takes tens of milliseconds of subprocess calls; blocking the loop that
        # long is fine in a test.
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def running_test_dns(directory: Path) -> Iterator[TestDns]:
    """Body of a fixture: a started TestDns in ``directory``, stopped afterwards.

    ``yield from running_test_dns(tmp_path_factory.mktemp("knot"))``
    """
    with TestDns(directory) as server:
        yield server
