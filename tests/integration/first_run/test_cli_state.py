"""One place for state: every CLI command finds the config and data directory as ``serve``
does, and none creates a database that is not there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from postillon.cli import cli
from tests.integration.storage.pg import PgDatabase


@pytest.fixture(autouse=True)
def no_postillon_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("POSTILLON_CONFIG", "POSTILLON_HOME"):
        monkeypatch.delenv(name, raising=False)


def test_a_command_in_another_folder_refuses_to_create_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["queue", "ls"])

    assert result.exit_code == 1
    assert f"no database at {tmp_path / 'var' / 'postillon.db'}" in result.output
    assert "POSTILLON_HOME" in result.output
    assert not (tmp_path / "var").exists()


def test_init_creates_the_state_then_commands_find_it_from_postillon_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "postillon.toml").write_text('[storage]\ndata_dir = "state"\n')
    monkeypatch.chdir(tmp_path)
    created = CliRunner().invoke(cli, ["init"])
    again = CliRunner().invoke(cli, ["init"])
    key = CliRunner().invoke(cli, ["keys", "create", "--account", "acme"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    listed = CliRunner().invoke(
        cli, ["keys", "list", "--account", "acme", "--config", str(tmp_path / "postillon.toml")]
    )

    assert created.exit_code == 0, created.output
    assert f"database: sqlite:///{tmp_path / 'state' / 'postillon.db'}" in created.output
    assert "source .venv/bin/activate" in created.output
    assert "http://127.0.0.1:8025/dashboard" in created.output
    assert "postillon keys create --account acme" in created.output
    assert (tmp_path / "state" / "dkim-master.key").exists()
    assert again.exit_code == 0, again.output
    assert key.exit_code == 0, key.output
    assert key.stdout.startswith("pst_")
    assert listed.exit_code == 0, listed.output
    assert key.stdout[:12] in listed.stdout


def test_postillon_home_points_every_command_at_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"POSTILLON_HOME": str(tmp_path / "home")}
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["queue", "ls"], env=env)

    assert result.exit_code == 0, result.output
    assert "0 recipient(s)" in result.output


def test_check_config_prints_settings_then_warnings_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["check-config"],
        env={
            "POSTILLON_DELIVERY__HELO_NAME": "vm",
            "POSTILLON_DELIVERY__BIND_ADDRESSES": "10.1.2.3,10.1.2.4",
        },
    )

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["delivery"]["bind_addresses"] == ["10.1.2.3", "10.1.2.4"]
    assert shown["storage"]["data_dir"] == str(tmp_path / "var")
    assert "warning: [delivery] helo_name is 'vm'" in result.stderr
    assert "spf_addresses (and bind_addresses) are empty" not in result.stderr


def test_a_bad_setting_stops_with_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["check-config"], env={"POSTILLON_DELIVERY__SPF_ADDRESSES": "203.0.113.5,mta"}
    )

    assert result.exit_code == 1
    assert "delivery.spf_addresses" in result.output
    assert "'mta' is not an IP address" in result.output


def test_an_empty_postgresql_database_is_not_given_a_schema_by_a_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = PgDatabase().create()
    try:
        monkeypatch.chdir(tmp_path)
        env = {"POSTILLON_STORAGE__URL": database.url}
        refused = CliRunner().invoke(cli, ["queue", "ls"], env=env)
        created = CliRunner().invoke(cli, ["init"], env=env)
        listed = CliRunner().invoke(cli, ["queue", "ls"], env=env)
    finally:
        database.drop()

    assert refused.exit_code == 1
    assert "holds no postillon schema" in refused.output
    assert created.exit_code == 0, created.output
    assert listed.exit_code == 0, listed.output
