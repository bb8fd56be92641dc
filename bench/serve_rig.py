"""The rig bench/http_e2e.py drives: a real ``postillon serve`` and the world around it.

Owns starting and stopping, on 127.0.13.x: a knot DNS server (the recipient domain's MX ->
smtp-sink on 127.0.13.2:25, and the sender domain's records as the API asks for them),
Postfix's smtp-sink dumping each message to a file (its mtime is when DATA was accepted), and
a ``postillon serve`` subprocess on SQLite or PostgreSQL, with an API key (``postillon keys
create``) and a sender domain added, published and verified over HTTP as a customer does.
It also reads the server's CPU time and peak RSS from /proc. Must not measure (http_e2e.py does).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.dns_server import TestDns

API_ADDRESS = "127.0.13.1"  # the API listens here; outbound mail leaves from here too
API_PORT = 28013
MX_ADDRESS = "127.0.13.2"  # smtp-sink, port 25 as a real MX
DNS_ADDRESS = "127.0.13.53"
SENDER_DOMAIN = "bench13.example"
RECIPIENT_DOMAIN = "sink13.example"
REPO = Path(__file__).resolve().parents[1]
# Bounds on every wait of the rig: generous for a loaded 2-core machine, never infinite.
START_TIMEOUT_S = 60.0
SINK_BACKLOG = "1024"


def zone_lines(records: list[dict[str, Any]]) -> str:
    """Master-file lines publishing ``records`` as the API gave them (absolute names)."""
    lines = []
    for record in records:
        if record["type"] == "TXT":
            strings = " ".join(f'"{s}"' for s in record["value_strings"])
            lines.append(f"{record['name']}. TXT {strings}")
        else:
            lines.append(f"{record['name']}. {record['type']} {record['value']}.")
    return "\n".join(lines)


class Sink:
    """smtp-sink on MX_ADDRESS:25, one file per message under ``directory``."""

    def __init__(self, work: Path) -> None:
        self.directory = work / "sink"
        self.directory.mkdir()
        work.chmod(0o755)  # the sink writes as nobody
        shutil.chown(self.directory, "nobody")
        binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
        self._proc = subprocess.Popen(
            [
                binary,
                "-u",
                "nobody",
                "-d",
                f"{self.directory}/m.",
                f"{MX_ADDRESS}:25",
                SINK_BACKLOG,
            ],
            stdout=subprocess.DEVNULL,
            stderr=(work / "sink.log").open("wb"),
        )
        time.sleep(0.3)

    def count(self) -> int:
        """Messages accepted so far."""
        with os.scandir(self.directory) as entries:
            return sum(1 for _ in entries)

    def newest_mtime(self) -> float:
        """When the last message was accepted (its file's mtime, wall clock)."""
        with os.scandir(self.directory) as entries:
            return max(entry.stat().st_mtime for entry in entries)

    def clear(self) -> None:
        for entry in os.scandir(self.directory):
            os.unlink(entry.path)

    def wait_for(self, count: int, timeout_s: float) -> float:
        """Poll until ``count`` messages arrived; returns when (perf_counter)."""
        deadline = time.perf_counter() + timeout_s
        while self.count() < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"sink has {self.count()} of {count} after {timeout_s} s")
            time.sleep(0.005)
        return time.perf_counter()

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(10)


@dataclass
class Served:
    """A running ``postillon serve``, its API key and its verified sender domain."""

    proc: subprocess.Popen[bytes]
    key: str
    base: str

    def cpu_s(self) -> float:
        """User + system CPU of the server process, all its threads."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        return int(match.group(1)) / 1024 if match else float("nan")

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        return int(match.group(1)) / 1024 if match else float("nan")

    def post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else b"",
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def start_dns(work: Path) -> TestDns:
    dns = TestDns(work / "knot", address=DNS_ADDRESS)
    dns.add_zone(f"{RECIPIENT_DOMAIN}.", f"@ MX 10 mx\nmx A {MX_ADDRESS}")
    dns.add_zone(f"{SENDER_DOMAIN}.", "")
    dns.start()
    return dns


def write_config(work: Path, url: str, dns: TestDns) -> Path:
    config = work / "postillon.toml"
    config.write_text(
        f'[storage]\nurl = "{url}"\n'
        f'[api]\nlisten = "{API_ADDRESS}:{API_PORT}"\nrate_per_s = 1000000.0\n'
        "rate_burst = 1000000\n"
        f'[dns]\nnameservers = ["{dns.nameserver}"]\n'
        f'[delivery]\nhelo_name = "mta.{SENDER_DOMAIN}"\nbind_addresses = ["{API_ADDRESS}"]\n'
        # The sink listens on loopback, which delivery refuses unless allowed.
        'allow_private_destinations = ["127.0.0.0/8"]\n'
        "[mta_sts]\nenabled = false\n"
        f'[dkim]\nmaster_key_file = "{work / "dkim-master.key"}"\n'
    )
    return config


def postillon(*args: str, config: Path) -> list[str]:
    return [str(REPO / ".venv" / "bin" / "postillon"), *args, "--config", str(config)]


def start_serve(work: Path, url: str, dns: TestDns, log_name: str) -> Served:
    """``postillon serve`` on ``url`` with a key and a verified sender domain."""
    config = write_config(work, url, dns)
    subprocess.run(  # the CLI refuses a database without our schema; init makes it
        postillon("init", config=config),
        capture_output=True,
        check=True,
        timeout=START_TIMEOUT_S,
    )
    created = subprocess.run(
        postillon("keys", "create", "--account", "bench", config=config),
        capture_output=True,
        text=True,
        check=True,
        timeout=START_TIMEOUT_S,
    )
    match = re.search(r"pst_\S+", created.stdout)
    if match is None:
        raise RuntimeError(f"no key in: {created.stdout}{created.stderr}")
    proc = subprocess.Popen(
        postillon("serve", config=config),
        stdout=(work / log_name).open("wb"),
        stderr=subprocess.STDOUT,
    )
    served = Served(proc, match.group(0), f"http://{API_ADDRESS}:{API_PORT}")
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            urllib.request.urlopen(served.base + "/openapi.json", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((work / log_name).read_text()[-3000:]) from None
            time.sleep(0.2)
    added = served.post("/v1/domains", {"name": SENDER_DOMAIN})
    dns.add_zone(f"{SENDER_DOMAIN}.", zone_lines(added["records"]))
    verified = served.post(f"/v1/domains/{SENDER_DOMAIN}/verify", None)
    if verified["status"] != "verified":
        raise RuntimeError(f"sender domain not verified: {verified}")
    return served
