"""``postillon init``: a starter config where none exists (never over one), and with
``--account`` a first API key, printed once, that the API then accepts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from postillon.cli import cli
from postillon.clock import SystemClock
from postillon.config import load_settings
from postillon.config.starter import STARTER_TOML
from postillon.services.container import Services
from postillon.storage.sql_store import SqlStore


@pytest.fixture(autouse=True)
def no_postillon_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("POSTILLON_CONFIG", "POSTILLON_HOME"):
        monkeypatch.delenv(name, raising=False)


def _account_of(config: Path, token: str) -> str | None:
    settings = load_settings(config, {})

    async def run() -> str | None:
        store = SqlStore.from_url(settings.storage.url, SystemClock())
        services = Services.build(settings, store, None, SystemClock())
        try:
            account = await services.keys.authenticate(token)
            return None if account is None else account.name
        finally:
            await services.close()
            await store.close()

    return asyncio.run(run())


def test_init_writes_a_starter_config_and_a_first_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(cli, ["init", "--account", "acme"])
    again = CliRunner().invoke(cli, ["init", "--account", "acme"])

    assert first.exit_code == 0, first.output
    config = tmp_path / "postillon.toml"
    assert config.read_text() == STARTER_TOML
    assert f"config: {config} (a starter" in first.output
    [line] = [line for line in first.stdout.splitlines() if "export KEY=" in line]
    token = line.split("export KEY=", 1)[1]
    assert token.startswith("pst_")
    assert first.stdout.count(token) == 1  # printed once, never again
    assert _account_of(config, token) == "acme"
    assert (tmp_path / "var" / "postillon.db").exists()
    # Run again: the config is kept, no second key is minted, nothing is printed twice.
    assert again.exit_code == 0, again.output
    assert "config:" not in again.output
    assert "pst_" not in again.output
    assert "account acme has an active API key already" in again.output
    listed = CliRunner().invoke(cli, ["keys", "list", "--account", "acme"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.count(token[:12]) == 1
    assert len(listed.stdout.strip().splitlines()) == 1


def test_init_never_writes_over_an_existing_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "etc" / "mine.toml"
    config.parent.mkdir()
    config.write_text('[storage]\ndata_dir = "state"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init"], env={"POSTILLON_CONFIG": str(config)})

    assert result.exit_code == 0, result.output
    assert config.read_text() == '[storage]\ndata_dir = "state"\n'
    assert not (tmp_path / "postillon.toml").exists()
    assert (tmp_path / "etc" / "state" / "postillon.db").exists()
    assert "pst_" not in result.output  # no --account, no key


def test_init_writes_the_starter_where_config_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "etc" / "postillon.toml"
    result = CliRunner().invoke(cli, ["init", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert config.read_text() == STARTER_TOML
    assert (tmp_path / "etc" / "var" / "postillon.db").exists()


def test_the_starter_config_loads_as_the_defaults(tmp_path: Path) -> None:
    config = tmp_path / "postillon.toml"
    config.write_text(STARTER_TOML)
    assert load_settings(config, {}) == load_settings(None, {}).model_copy(
        update={"storage": load_settings(config, {}).storage}
    )
    assert load_settings(config, {}).storage.data_dir == tmp_path / "var"


def test_init_says_why_it_cannot_write_the_starter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    result = CliRunner().invoke(cli, ["init", "--config", str(tmp_path / "file" / "p.toml")])

    assert result.exit_code == 1
    assert f"cannot write {tmp_path / 'file' / 'p.toml'}" in result.output
