"""The README's first-run walkthrough, run as written against a fresh ``postillon serve``.

The commands are read from README.md itself (the first ``sh`` block under "First run"), so
the README cannot drift from what works; only ``localhost:8025`` is pointed at the test
server. They run in bash from a folder holding the repository's ``.venv``, with the CLI
finding the server's database through ``POSTILLON_HOME`` as it would through ``./var``. The
server runs on the default config: no DNS server, no network, no source address.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.first_run.server import Served, clean_env, served

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"
HOST = "127.0.16.2"
README_LISTEN = "localhost:8025"
# The walkthrough's own pause plus curl and the CLI's start-up, on a loaded machine.
WALKTHROUGH_TIMEOUT_S = 60.0


def walkthrough(readme: str) -> str:
    """The first ``sh`` code block of the README's "First run" section."""
    section = readme.split("\n## First run", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the First run section has no sh block"
    return match.group(1)


def test_the_readme_keeps_its_two_first_commands() -> None:
    first = re.search(r"```sh\n(.*?)```", README.read_text(), re.DOTALL)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["make run", "make test"]


def prepare(server: Served, work: Path) -> str:
    """The walkthrough aimed at ``server``, and a folder to run it in beside our .venv."""
    script = walkthrough(README.read_text()).replace(README_LISTEN, server.listen)
    assert script.count(server.listen) >= 3, "the walkthrough no longer talks to the API"
    work.mkdir()
    (work / ".venv").symlink_to(REPO / ".venv")
    return script


async def run_walkthrough(server: Served, work: Path) -> str:
    script = prepare(server, work)
    shell = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        script,
        cwd=work,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(POSTILLON_HOME=str(server.home)),
    )
    async with asyncio.timeout(WALKTHROUGH_TIMEOUT_S):
        out, err = await shell.communicate()
    assert shell.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def test_readme_walkthrough_delivers_through_the_sandbox(tmp_path: Path) -> None:
    async with served(tmp_path, HOST) as server:
        output = await run_walkthrough(server, tmp_path / "work")
        domain, email = json_documents(output)
        key = (await _read_key(tmp_path)).strip()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as client:
            dashboard = await _dashboard_message(client, key, str(email["id"]))
            metrics = (await client.get("/metrics")).text

    [recipient] = email["recipients"]
    assert recipient["address"] == "delivered@simulator.postillon.invalid"
    assert recipient["status"] == "delivered"
    [attempt] = recipient["attempts"]
    assert attempt["mx_host"] == "sandbox"
    assert attempt["reply"]["code"] == 250
    assert attempt["tls"]["used"] is False
    assert "delivered@simulator.postillon.invalid" in dashboard
    assert "sandbox" in dashboard
    assert 'postillon_deliveries_total{bounce_class="",outcome="delivered"} 1.0' in metrics
    assert "postillon_messages_accepted_total 1.0" in metrics
    assert 'postillon_attempt_tls_total{tls="none"} 1.0' in metrics
    assert 'postillon_attempt_mta_sts_total{mode="none"} 1.0' in metrics
    assert 'postillon_attempt_duration_seconds_count{outcome="delivered"} 1.0' in metrics
    assert "postillon_queue_waiting_recipients 0.0" in metrics
    logged = [json.loads(line) for line in server.stdout.read_text().splitlines() if line]
    [outcome] = [e for e in logged if e["event"] == "delivery.outcome"]
    assert (outcome["message_id"], outcome["recipient_id"]) == (email["id"], recipient["id"])
    assert outcome["status"] == "delivered"
    # The domain was added, never verified: the sandbox signed with its pending key.
    assert domain["name"] == "example.com"
    assert domain["status"] == "pending"


def json_documents(text: str) -> list[dict[str, Any]]:
    """The JSON objects curl printed one after the other (without newlines between)."""
    decoder, found, at = json.JSONDecoder(), list[dict[str, Any]](), 0
    while (start := text.find("{", at)) != -1:
        document, at = decoder.raw_decode(text, start)
        found.append(document)
    return found


async def _read_key(tmp_path: Path) -> str:
    """The walkthrough's key is in its shell only; make the same account another one."""
    shell = await asyncio.create_subprocess_exec(
        str(Path(REPO / ".venv" / "bin" / "postillon")),
        "keys",
        "create",
        "--account",
        "acme",
        stdout=asyncio.subprocess.PIPE,
        env=clean_env(POSTILLON_HOME=str(tmp_path / "home")),
    )
    out, _ = await shell.communicate()
    assert shell.returncode == 0
    return out.decode()


async def _dashboard_message(client: httpx.AsyncClient, key: str, message_id: str) -> str:
    signed_in = await client.post("/dashboard/sign-in", data={"api_key": key})
    assert signed_in.status_code == 303, signed_in.text
    page = await client.get(f"/dashboard/messages/{message_id}")
    assert page.status_code == 200
    return page.text
