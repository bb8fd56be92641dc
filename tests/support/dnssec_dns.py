"""Real DNSSEC for tests: Knot signs a test root zone, Unbound validates it with its key.

Owns: a private knotd on 127.0.18.53 port 53 (the port a delegation's glue implies, so Unbound
can follow referrals as on the Internet) serving three zones:

- ``.``: signed by Knot's automatic DNSSEC signing (ECDSA P-256, one CSK, NSEC); test records
  added here are secure. Names used: ``*.d18.``.
- ``insecure.d18.``: delegated without a DS record, so its answers are provably insecure.
- ``_tcp.mx.bogus-tlsa.d18.``: delegated with a DS record that matches no key, so everything
  in it fails validation (Unbound answers SERVFAIL with an RFC 8914 extended error), while the
  address of ``mx.bogus-tlsa.d18.`` (in the root) stays secure: a bogus TLSA RRset.

and a private unbound on 127.0.18.54 at a free port, validating from the root's key (read from
Knot once it signed) and knowing no other server than our knotd (root hints point at it), so no
query ever leaves loopback. It must not touch /etc/knot, /etc/unbound or any address outside
127.0.18.53-54, and it stops only the two processes it started, by their PIDs.

Use::

    with SignedDns(tmp_dir) as dns:
        dns.add(".", "mx.good.d18. A 127.0.18.10")      # signed: secure
        dns.add("insecure.d18.", "mx A 127.0.18.11")   # no DS: insecure
        settings = DnsSettings(nameservers=(dns.nameserver,), dnssec=True)
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
from pathlib import Path
from types import TracebackType
from typing import Self

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import pytest

from tests.support.listening import is_listening
from tests.support.processes import stop_process

KNOT_ADDRESS = "127.0.18.53"
KNOT_PORT = 53  # delegations carry addresses only, so the authoritative server is on port 53
UNBOUND_ADDRESS = "127.0.18.54"
ROOT = "."
INSECURE_ZONE = "insecure.d18."
BOGUS_ZONE = "_tcp.mx.bogus-tlsa.d18."
# A DS record for the bogus zone that matches no DNSKEY: algorithm 13, SHA-256, zero digest.
BOGUS_DS = "12345 13 2 " + "00" * 32
# Knot and unbound start and sign small zones in well under a second; slack for a busy machine.
START_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.05
QUERY_TIMEOUT_S = 2.0
KNOTC_TIMEOUT_S = 10
TTL_S = 300
NEGATIVE_TTL_S = 5  # short: a name a test asked about too early is soon asked again
# DNSKEY flags of a key-signing key (RFC 4034 §2.1.1: Zone Key + Secure Entry Point).
KSK_FLAGS = 257
_SERIAL_RE = re.compile(r"serial: (\d+)")


def _binary(name: str) -> str | None:
    return shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )


def _free_port(address: str) -> int:
    """A UDP port free on ``address`` now (unbound binds it and TCP on the same number)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((address, 0))
        return int(udp.getsockname()[1])


class SignedDns:
    """The signed knotd and the validating unbound; see the module docstring."""

    __test__ = False

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory or tempfile.mkdtemp(prefix="postillon-dnssec-"))
        self.port = 0
        self._serials = itertools.count(2)
        self._records: dict[str, list[str]] = {ROOT: [], INSECURE_ZONE: [], BOGUS_ZONE: []}
        self._knot: subprocess.Popen[bytes] | None = None
        self._unbound: subprocess.Popen[bytes] | None = None

    @property
    def nameserver(self) -> str:
        """``"127.0.18.54:PORT"``: the validating resolver, for ``[dns] nameservers``."""
        return f"{UNBOUND_ADDRESS}:{self.port}"

    def _zone_path(self, zone: str) -> Path:
        return self.directory / "zones" / (("root" if zone == ROOT else zone.rstrip(".")) + ".zone")

    def _zone_text(self, zone: str, serial: int) -> str:
        head = [
            f"$ORIGIN {zone}",
            f"$TTL {TTL_S}",
            f"@ {NEGATIVE_TTL_S} SOA ns.d18. hostmaster.d18. {serial} 3600 600 86400 "
            f"{NEGATIVE_TTL_S}",
            "@ NS ns.d18.",
        ]
        if zone == ROOT:
            head += [
                f"ns.d18. A {KNOT_ADDRESS}",
                f"{INSECURE_ZONE} NS ns.d18.",
                f"{BOGUS_ZONE} NS ns.d18.",
                f"{BOGUS_ZONE} DS {BOGUS_DS}",
            ]
        return "\n".join([*head, *self._records[zone]]) + "\n"

    def add(self, zone: str, records: str) -> None:
        """Add ``records`` (master-file lines, relative to ``zone``) and wait until served."""
        self._records[zone] += textwrap.dedent(records).strip().splitlines()
        serial = next(self._serials)
        self._zone_path(zone).write_text(self._zone_text(zone, serial))
        if self._knot is not None:
            self._knotc("zone-reload", zone)
            self._wait_serial(zone, serial, time.monotonic() + START_TIMEOUT_S)

    def _write_knot_config(self) -> None:
        d = self.directory
        (d / "knot.conf").write_text(
            f"""\
server:
    rundir: "{d}"
    listen: {KNOT_ADDRESS}@{KNOT_PORT}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{d / "knot.sock"}"
database:
    storage: "{d / "db"}"
log:
  - target: "{d / "knot.log"}"
    any: info
policy:
  - id: tests
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
template:
  - id: default
    storage: "{d / "zones"}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: {ROOT}
    file: "{self._zone_path(ROOT)}"
    dnssec-signing: on
    dnssec-policy: tests
  - domain: {INSECURE_ZONE}
    file: "{self._zone_path(INSECURE_ZONE)}"
  - domain: {BOGUS_ZONE}
    file: "{self._zone_path(BOGUS_ZONE)}"
"""
        )

    def _write_unbound_config(self, root_key: str) -> None:
        d = self.directory
        (d / "hints.zone").write_text(f". 3600000 NS ns.d18.\nns.d18. 3600000 A {KNOT_ADDRESS}\n")
        (d / "unbound.conf").write_text(
            f"""\
server:
    interface: {UNBOUND_ADDRESS}
    port: {self.port}
    outgoing-interface: {UNBOUND_ADDRESS}
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: ""
    use-syslog: no
    logfile: "{d / "unbound.log"}"
    verbosity: 1
    val-log-level: 2
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    root-hints: "{d / "hints.zone"}"
    trust-anchor: ". DNSKEY {root_key}"
    module-config: "validator iterator"
    qname-minimisation: no
    aggressive-nsec: no
    ede: yes
    cache-max-negative-ttl: {NEGATIVE_TTL_S}
    target-fetch-policy: "0 0 0 0 0"
remote-control:
    control-enable: no
"""
        )

    def start(self) -> None:
        """Start knotd, wait for the signed root, then start unbound with its key."""
        knotd, unbound = _binary("knotd"), _binary("unbound")
        if knotd is None or unbound is None:
            pytest.skip("knotd or unbound not installed (Debian packages knot, unbound)")
        for sub in ("zones", "db"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        for zone in self._records:
            self._zone_path(zone).write_text(self._zone_text(zone, 1))
        self._write_knot_config()
        deadline = time.monotonic() + START_TIMEOUT_S
        with (self.directory / "knot.log").open("ab") as log:
            self._knot = subprocess.Popen(
                [knotd, "-c", str(self.directory / "knot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            root_key = self._wait_root_key(deadline)
            self.port = _free_port(UNBOUND_ADDRESS)
            self._write_unbound_config(root_key)
            with (self.directory / "unbound.out").open("ab") as out:
                self._unbound = subprocess.Popen(
                    [unbound, "-d", "-c", str(self.directory / "unbound.conf")],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            while not is_listening(UNBOUND_ADDRESS, self.port):
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"unbound did not listen\n{self._log('unbound.log')}")
                time.sleep(POLL_INTERVAL_S)
        except BaseException:
            self.stop()
            raise

    def _wait_root_key(self, deadline: float) -> str:
        """The root's key-signing DNSKEY (flags 257) as "257 3 13 <base64>", once signed."""
        while True:
            self._check_alive()
            with contextlib.suppress(OSError, dns.exception.DNSException):
                query = dns.message.make_query(ROOT, dns.rdatatype.DNSKEY)
                response = dns.query.udp(query, KNOT_ADDRESS, port=KNOT_PORT, timeout=0.5)
                for rrset in response.answer:
                    for rdata in rrset:
                        if rdata.rdtype == dns.rdatatype.DNSKEY and int(rdata.flags) == KSK_FLAGS:
                            return str(rdata.to_text())
            if time.monotonic() > deadline:
                raise RuntimeError(f"knotd did not sign the root\n{self._log('knot.log')}")
            time.sleep(POLL_INTERVAL_S)

    def _wait_serial(self, zone: str, serial: int, deadline: float) -> None:
        while True:
            result = self._knotc("zone-status", zone, check=False)
            match = _SERIAL_RE.search(result.stdout)
            if match and int(match.group(1)) >= serial:
                return
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"knotd did not load {zone} {serial}\n{self._log('knot.log')}")
            time.sleep(POLL_INTERVAL_S)

    def _knotc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        knotc = _binary("knotc") or "knotc"
        command = [knotc, "-s", str(self.directory / "knot.sock"), "-t", str(KNOTC_TIMEOUT_S)]
        result = subprocess.run([*command, *args], capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def _check_alive(self) -> None:
        for name, process in (("knotd", self._knot), ("unbound", self._unbound)):
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}\n"
                    f"{self._log('knot.log')}{self._log('unbound.log')}{self._log('unbound.out')}"
                )

    def _log(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.directory / name).read_bytes()[-4000:].decode(errors="replace")
        return ""

    def stop(self) -> None:
        """Stop unbound and knotd by their PIDs (SIGTERM, SIGKILL past a bound)."""
        for attr in ("_unbound", "_knot"):
            process = getattr(self, attr)
            setattr(self, attr, None)
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
