"""The CLI's keys and domains commands on a real SQLite file (no DNS: verify has its tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from postillon.cli import cli


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "postillon.toml"
    path.write_text(
        f"""
[storage]
url = "sqlite:///{tmp_path / "queue.db"}"
[delivery]
helo_name = "mta.postillon.test"
source_addresses = ["192.0.2.7"]
[dkim]
master_key_file = "{tmp_path / "dkim-master.key"}"
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args[:2], "--config", str(config), *args[2:]])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_keys_create_list_revoke(config: Path) -> None:
    token = run(config, "keys", "create", "--account", "acme").strip()
    [listed] = run(config, "keys", "list", "--account", "acme").splitlines()
    key_id = listed.split()[0]

    revoked = run(config, "keys", "revoke", "--account", "acme", key_id)
    [after] = run(config, "keys", "list", "--account", "acme").splitlines()

    assert token.startswith("pst_")
    assert f"{token[:12]}..." in listed
    assert "revoked" not in listed
    assert revoked.strip() == f"revoked {key_id}"
    assert "revoked 20" in after


def test_domains_add_then_show(config: Path) -> None:
    added = run(config, "domains", "add", "--account", "acme", "shop.example")
    shown = run(config, "domains", "show", "--account", "acme")

    assert added.startswith("shop.example: pending (selector pst")
    assert "dkim (required) TXT pst" in added
    assert '"v=DKIM1; k=rsa; p=' in added
    assert '"v=spf1 ip4:192.0.2.7 -all"' in added
    assert "10 mta.postillon.test" in added
    assert shown == added


def test_domains_show_of_another_accounts_domain_fails(config: Path) -> None:
    run(config, "domains", "add", "--account", "acme", "shop.example")

    result = CliRunner().invoke(
        cli, ["domains", "show", "--config", str(config), "--account", "globex", "shop.example"]
    )

    assert result.exit_code == 1
    assert "no domain shop.example" in result.output
