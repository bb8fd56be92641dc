"""``postillon serve`` with submission, as a subprocess: a 250 survives ``kill -9``, SIGHUP
reloads the certificate, the key never reaches the log, and a listener without a
certificate refuses to start, saying so.

Address: 127.0.14.4 (the subprocess's API, 587 and 465 listeners).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.submission.conftest import SERVER_NAME, SubmissionWorld
from tests.support.listening import wait_listening

pytestmark = [pytest.mark.timeout(90)]

SERVE_HOST = "127.0.14.4"
STARTUP_S = 30.0


def write_config(world: SubmissionWorld, path: Path, *, with_cert: bool = True) -> None:
    files = world.pki.cert_files(SERVER_NAME)
    url = world.node.settings.storage.url
    tls = f'cert_file = "{files.cert_path}"\nkey_file = "{files.key_path}"\n' if with_cert else ""
    path.write_text(
        f"""
[storage]
url = "{url}"
[api]
listen = "{SERVE_HOST}:8025"
[mta_sts]
enabled = false
[dkim]
master_key_file = "{world.node.settings.dkim.master_key_file}"
[submission]
listen = ["{SERVE_HOST}:587"]
implicit_tls_listen = ["{SERVE_HOST}:465"]
hostname = "{SERVER_NAME}"
{tls}"""
    )


def log_text(log: Path) -> str:
    """What the subprocess has written so far."""
    return log.read_text()


async def serve(config: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "postillon", "serve", "--config", str(config), "--role", "api",
            stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    if not await wait_listening(SERVE_HOST, 587, STARTUP_S):
        process.kill()
        await process.wait()
        pytest.fail(f"serve did not listen: {log_text(log)}")
    return process


def submit(world: SubmissionWorld) -> str:
    message = (
        f"From: shop@{world.acme_domain}\r\nTo: bob@{world.recipient_domain}\r\n"
        "Subject: durable\r\n\r\nhi\r\n"
    ).encode()
    with smtplib.SMTP(SERVE_HOST, 587, timeout=10) as client:
        client.starttls(context=world.client_context())
        client.login("app", world.acme_key)
        client.mail(f"shop@{world.acme_domain}")
        client.rcpt(f"bob@{world.recipient_domain}")
        code, text = client.data(message)
    assert code == 250, text
    found = re.search(rb"queued as (\S+)", text)
    assert found is not None
    return found.group(1).decode()


async def test_a_250_survives_kill_9_and_the_key_is_never_logged(world: SubmissionWorld) -> None:
    config, log = world.tmp_path / "serve.toml", world.tmp_path / "serve.log"
    await asyncio.to_thread(write_config, world, config)
    process = await serve(config, log)
    try:
        message_id = await asyncio.to_thread(submit, world)
    finally:
        process.send_signal(signal.SIGKILL)  # at once after the 250: nothing may be lost
        await process.wait()
    view = await world.node.services.sending.get(world.acme, message_id)
    assert (view.subject, view.source) == ("durable", "smtp")
    output = log_text(log)
    assert world.acme_key not in output
    assert world.acme_key[:12] in output  # the prefix names the key in the log


async def test_sighup_reloads_the_certificate(world: SubmissionWorld) -> None:
    config, log = world.tmp_path / "serve.toml", world.tmp_path / "serve.log"
    await asyncio.to_thread(write_config, world, config)
    process = await serve(config, log)
    try:
        process.send_signal(signal.SIGHUP)
        for _ in range(50):
            if "smtp tls reloaded" in log_text(log):
                break
            await asyncio.sleep(0.1)
        assert "smtp tls reloaded" in log_text(log)
        assert process.returncode is None  # SIGHUP does not stop the service
        await asyncio.to_thread(submit, world)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await process.wait()


def test_a_listener_without_a_certificate_refuses_to_start(world: SubmissionWorld) -> None:
    config = world.tmp_path / "nocert.toml"
    write_config(world, config, with_cert=False)
    result = subprocess.run(
        [sys.executable, "-m", "postillon", "serve", "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "cert_file" in result.stderr
    assert "TLS certificate" in result.stderr
