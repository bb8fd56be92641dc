"""The CLI's keys, domains and reports commands on a real SQLite file (no DNS: verify has its
tests)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from postillon.cli import cli
from postillon.clock import SystemClock
from postillon.config import load_settings
from postillon.domains import TagKey, tagged_bounce_address
from postillon.services.container import Services, load_master_key
from postillon.storage.sql_store import SqlStore
from tests.unit.reports import shapes


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
    run(config, "keys", "create", "--account", "globex")

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
    run(config, "keys", "create", "--account", "acme")
    result = invoke(config, ["users", args[0], "--account", "acme", *args[1:]], stdin)

    assert result.exit_code == 1
    assert problem in result.output


def test_reports_list_and_show_unmatched(config: Path) -> None:
    settings = load_settings(config, os.environ)

    async def receive() -> str:
        store = SqlStore.from_url(settings.storage.url, SystemClock())
        await store.migrate()
        services = Services.build(settings, store, None, SystemClock())
        try:
            key = TagKey.derive(load_master_key(settings.dkim, settings.master_key_path).material)
            rcpt = tagged_bounce_address("gone.example", "01JGONE0000000000000000000", key)
            stored = await services.return_path.receive(
                mail_from="", rcpt_to=rcpt, data=shapes.GMAIL.data, peer="192.0.2.9"
            )
            return stored.id
        finally:
            await services.close()
            await store.close()

    report_id = asyncio.run(receive())
    [line] = run(config, "reports", "list").splitlines()
    shown = run(config, "reports", "show", report_id)

    assert line.startswith(f"{report_id}  ")
    assert "bounce (gmail)" in line
    assert "from 192.0.2.9  message -  applied to 0" in line
    assert "** Address not found **" in shown
    assert run(config, "reports", "list", "--account", "acme") == ""


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "list"],
        ["keys", "revoke", "key_x"],
        ["domains", "show"],
        ["domains", "verify", "shop.example"],
        ["users", "list"],
        ["users", "remove", "ann@example.test"],
    ],
)
def test_a_command_on_an_unknown_account_fails_and_creates_nothing(
    config: Path, args: list[str]
) -> None:
    run(config, "keys", "create", "--account", "acme")
    result = invoke(config, [*args[:2], "--account", "acme-typo", *args[2:]])
    assert result.exit_code == 1
    assert "no account named 'acme-typo'" in result.output
    # The typo did not become an account: listing it still fails the same way.
    again = invoke(config, ["keys", "list", "--account", "acme-typo"])
    assert "no account named 'acme-typo'" in again.output
