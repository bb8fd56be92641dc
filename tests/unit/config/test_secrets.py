"""Secrets never leave the settings as text: check-config, repr and the storage URL in logs."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from click.testing import CliRunner

from postillon.cli import cli
from postillon.config.loader import load_settings
from postillon.config.settings import redact_url

MASTER = base64.b64encode(b"m" * 32).decode()
SESSION = base64.b64encode(b"s" * 32).decode()
PASSWORD = "hunter2-db-pass"


def config(tmp_path: Path) -> Path:
    path = tmp_path / "postillon.toml"
    path.write_text(
        f"""
[storage]
url = "postgresql://mailer:{PASSWORD}@db.internal:5432/postillon"
[dkim]
master_key = "{MASTER}"
[dashboard]
session_secret = "{SESSION}"
""",
        encoding="utf-8",
    )
    return path


def test_check_config_prints_no_secret(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config(tmp_path))])
    assert result.exit_code == 0, result.output
    for secret in (MASTER, SESSION, PASSWORD):
        assert secret not in result.output
    assert '"master_key": "**********"' in result.output
    assert '"session_secret": "**********"' in result.output
    assert "postgresql://mailer:**********@db.internal:5432/postillon" in result.output


def test_secrets_stay_usable_and_out_of_repr(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path), {})
    assert settings.dashboard.secret_octets() == b"s" * 32
    assert settings.dkim.master_key is not None
    assert settings.dkim.master_key.get_secret_value() == MASTER
    assert PASSWORD in settings.storage.url  # the store still connects with it
    for secret in (MASTER, SESSION, PASSWORD):
        assert secret not in repr(settings)
        assert secret not in str(settings)
    assert "db.internal" in repr(settings.storage)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p%40ss@h/db", "postgresql://u:**********@h/db"),
        (
            "postgresql+psycopg://u:pw@h:5432/db?sslmode=require",
            "postgresql+psycopg://u:**********@h:5432/db?sslmode=require",
        ),
        (
            "postgresql://u@h/db?password=pw&sslmode=require",
            "postgresql://u@h/db?password=**********&sslmode=require",
        ),
        ("postgresql://:pw@h/db", "postgresql://:**********@h/db"),
        ("sqlite:///var/postillon.db", "sqlite:///var/postillon.db"),
    ],
)
def test_a_storage_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown
