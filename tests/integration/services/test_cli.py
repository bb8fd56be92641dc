"""The CLI's keys and domains commands on a real SQLite file (no DNS: verify has its tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

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
    created = CliRunner().invoke(cli, ["init", "--config", str(path)])
    assert created.exit_code == 0, created.output
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


def invoke(config: Path, args: list[str], stdin: str = "") -> Result:
    return CliRunner().invoke(cli, [*args[:2], "--config", str(config), *args[2:]], input=stdin)


def test_users_add_list_set_password_remove(config: Path) -> None:
    password = "correct horse battery"
    added = invoke(config, ["users", "add", "--account", "acme", "Ann@Example.com"],
                   f"{password}\n{password}\n")  # fmt: skip
    reset = invoke(
        config,
        ["users", "set-password", "--account", "acme", "--password-stdin", "ann@example.com"],
        "another long password\n",
    )
    [listed] = run(config, "users", "list", "--account", "acme").splitlines()
    removed = run(config, "users", "remove", "--account", "acme", "ann@example.com")

    assert added.exit_code == 0, added.output
    assert "added ann@example.com to account acme" in added.output
    assert password not in added.output
    assert reset.exit_code == 0, reset.output
    assert listed.startswith("ann@example.com  created 20")
    assert listed.endswith("last sign-in never")
    assert removed.strip() == "removed ann@example.com"
    assert run(config, "users", "list", "--account", "acme") == ""


@pytest.mark.parametrize(
    ("args", "stdin", "problem"),
    [
        (["add", "--password-stdin", "ann@example.com"], "short\n", "at least 12 characters"),
        (["add", "--password-stdin", "not-an-email"], "long enough password\n", "not a valid"),
        (["remove", "nobody@example.com"], "", "no dashboard user nobody@example.com"),
        (
            ["set-password", "--password-stdin", "nobody@example.com"],
            "long enough password\n",
            "no dashboard user",
        ),
    ],
    ids=["short-password", "bad-email", "remove-unknown", "reset-unknown"],
)
def test_users_commands_say_what_is_wrong(
    config: Path, args: list[str], stdin: str, problem: str
) -> None:
    result = invoke(config, ["users", args[0], "--account", "acme", *args[1:]], stdin)

    assert result.exit_code == 1
    assert problem in result.output
