"""The ``postillon`` command: the edge where a person (or an init system) drives the service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
import structlog

from postillon.app import Node, ensure_sqlite_dir, sqlite_path
from postillon.clock import SystemClock
from postillon.config import Settings, load_settings
from postillon.config.checks import config_warnings
from postillon.config.loader import DEFAULT_CONFIG_NAME, find_config
from postillon.config.starter import STARTER_TOML
from postillon.errors import ConfigError, PostillonError
from postillon.logs import configure_logging
from postillon.queue.status import RecipientStatus
from postillon.roles import Role
from postillon.services.container import Services, load_master_key
from postillon.services.domain_views import DomainStatus, DomainView
from postillon.services.keys import ApiKeyInfo
from postillon.services.users import DashboardUserInfo
from postillon.storage.migrate import current_revision
from postillon.storage.reports_sql import StoredReport
from postillon.storage.sql_store import SqlStore

T = TypeVar("T")

config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML config file (else POSTILLON_CONFIG, else ./postillon.toml if present).",
)


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(find_config(config, os.environ, Path.cwd()), os.environ)
    except ConfigError as exc:
        raise click.ClickException(f"bad config: {exc}") from exc


def _refuse_missing_database(settings: Settings) -> None:
    """A command run from the wrong folder must not create an empty database and report an
    empty queue: it says where it looked instead."""
    path = sqlite_path(settings.storage.url)
    if path is not None and not path.exists():
        raise click.ClickException(
            f"no database at {path}: start `postillon serve` (or run `postillon init`) first,"
            " or point this command at the service's config (--config, POSTILLON_CONFIG,"
            " ./postillon.toml) or data directory (POSTILLON_HOME)"
        )


def _with_store(settings: Settings, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    _refuse_missing_database(settings)

    async def run() -> T:
        store = SqlStore.from_url(settings.storage.url, SystemClock())
        try:
            if await current_revision(store.engines.writer) is None:
                raise click.ClickException(
                    f"{settings.storage.redacted_url()} holds no postillon schema: start"
                    " `postillon serve` (or run `postillon init`) on it first"
                )
            await store.migrate()  # an older schema is brought up to date, as serve would
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except PostillonError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="postillon")
def cli() -> None:
    """postillon: email sending on its own outbound MTA."""


@cli.command("check-config")
@config_option
def check_config(config: Path | None) -> None:
    """Load the settings and print them as the service would see them, then warnings (on
    stderr) about what a deployment should still set."""
    settings = _settings(config)
    click.echo(settings.model_dump_json(indent=2))
    for warning in config_warnings(settings):
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@config_option
@click.option(
    "--account",
    default=None,
    help="Also create this account and a first API key for it (printed once).",
)
def init(config: Path | None, account: str | None) -> None:
    """Write a starter postillon.toml (where none exists), create the data directory, the
    database (migrated) and the DKIM master key, and with --account a first API key; then
    print what to do next. Safe to run again: it creates only what is missing."""
    path = find_config(config, os.environ, Path.cwd()) or Path.cwd() / DEFAULT_CONFIG_NAME
    if not path.exists():
        _write_starter(path)
    settings = _settings(path)

    async def run() -> None:
        ensure_sqlite_dir(settings.storage.url)
        node_store = SqlStore.from_url(settings.storage.url, SystemClock())
        try:
            await node_store.migrate()
        finally:
            await node_store.close()

    try:
        asyncio.run(run())
        load_master_key(settings.dkim, settings.master_key_path)
    except PostillonError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"database: {settings.storage.redacted_url()}")
    if settings.dkim.master_key is None:
        click.echo(f"DKIM master key: {settings.master_key_path} (back it up)")
    if account is not None:
        _first_key(settings, account)
    for line in next_steps(settings):
        click.echo(line)


def _write_starter(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as starter:  # "x": never over a file
                starter.write(STARTER_TOML)
        except FileExistsError:
            return  # written meanwhile by someone else: theirs stands
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from exc
    click.echo(f"config: {path} (a starter: every setting commented out)")


def _first_key(settings: Settings, account: str) -> None:
    """A first key for ``account``, printed once; none when it has an active key already
    (init run again must not mint a key per run)."""

    async def create(services: Services) -> tuple[ApiKeyInfo, str] | None:
        owner = await services.keys.account_named(account)
        if any(key.revoked_at is None for key in await services.keys.list(owner.id)):
            return None
        return await services.keys.create(account)

    created = _with_services(settings, create)
    if created is None:
        click.echo(
            f"account {account} has an active API key already (another: postillon keys create"
            f" --account {account})"
        )
        return
    info, token = created
    click.echo(f"API key {info.id} for account {account}, shown only this once (store it now):")
    click.echo(f"  export KEY={token}")


def next_steps(settings: Settings) -> list[str]:
    """The three lines a new user needs after the service starts."""
    host, _, port = settings.api.listen.rpartition(":")
    return [
        "next: source .venv/bin/activate   # puts `postillon` on PATH (or use .venv/bin/postillon)",
        f"      dashboard: http://{host}:{port}/dashboard   API docs: http://{host}:{port}/docs",
        "      first key: postillon keys create --account acme",
    ]


@cli.command()
@config_option
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.ALL.value,
    show_default=True,
    help="api: HTTP only; worker: delivery and webhooks only; all: both.",
)
def serve(config: Path | None, role: str) -> None:
    """Run the service until SIGTERM or SIGINT (in-flight transactions are drained)."""
    settings = _settings(config)
    configure_logging(is_terminal=sys.stdout.isatty())
    for warning in config_warnings(settings):
        structlog.get_logger("postillon.config").warning("config.warning", detail=warning)
    try:
        asyncio.run(_serve(settings, Role(role)))
    except PostillonError as exc:
        raise click.ClickException(str(exc)) from exc


async def _serve(settings: Settings, role: Role) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    node = Node(settings, role=role)
    loop.add_signal_handler(signal.SIGHUP, node.reload_tls)  # renewed certificates
    click.echo(
        f"postillon serving (storage {settings.storage.redacted_url()}); SIGTERM stops it", err=True
    )
    if role.runs_api and sys.stderr.isatty():  # a person at a terminal (make run), not an init
        for line in next_steps(settings):
            click.echo(line, err=True)
    await node.run(stop)


@cli.group()
def queue() -> None:
    """Look at and act on the delivery queue."""


@queue.command("ls")
@config_option
@click.option("--status", type=click.Choice([s.value for s in RecipientStatus]), default=None)
@click.option("--domain", default=None, help="Only recipients in this domain.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def queue_ls(config: Path | None, status: str | None, domain: str | None, limit: int) -> None:
    """Recipients waiting for delivery, soonest due first."""
    wanted = RecipientStatus(status) if status else None
    rows = _with_store(
        _settings(config),
        lambda store: store.list_queue(limit=limit, status=wanted, domain=domain),
    )
    for row in rows:
        due = row.next_attempt_at.isoformat(timespec="seconds") if row.next_attempt_at else "-"
        last = f"{row.last_reply_code} {row.last_reply_text or ''}".strip()
        click.echo(
            f"{row.id}  {row.status.value:<9} {row.attempts:>3}  {due}  {row.address}  "
            f"{last if row.last_reply_code else ''}"
        )
    click.echo(f"{len(rows)} recipient(s)", err=True)


@queue.command("show")
@config_option
@click.argument("message_id")
def queue_show(config: Path | None, message_id: str) -> None:
    """A message, its recipients and every attempt."""
    view = _with_store(_settings(config), lambda store: store.get_message(message_id))
    if view is None:
        raise click.ClickException(f"no message {message_id}")
    click.echo(f"message {view.id}  from {view.mail_from}  {view.size} octets")
    click.echo(f"  subject: {view.subject}\n  created: {view.created_at.isoformat()}")
    for rcpt in view.recipients:
        click.echo(f"  {rcpt.address}: {rcpt.status.value} after {rcpt.attempts} attempt(s)")
        for attempt in rcpt.attempt_log:
            rec = attempt.record
            tls = (
                f"{rec.tls_version} {rec.tls_cipher} verified={rec.tls_verified}"
                if rec.tls_used
                else f"no TLS ({rec.tls_reason or 'not offered'})"
            )
            click.echo(
                f"    #{attempt.number} {rec.started_at.isoformat(timespec='seconds')} "
                f"{rec.mx_host or '-'} [{rec.ip or '-'}] {rec.reply_code or ''} "
                f"{rec.enhanced_code or ''} {rec.reply_text}  [{tls}; MTA-STS "
                f"{rec.mta_sts_mode or 'none'}]"
            )


@queue.command("retry")
@config_option
@click.argument("message_id", required=False)
def queue_retry(config: Path | None, message_id: str | None) -> None:
    """Make waiting recipients due now (one message, or all)."""
    count = _with_store(_settings(config), lambda store: store.retry_now(message_id))
    click.echo(f"{count} recipient(s) due now")


@queue.command("delete")
@config_option
@click.argument("message_id")
def queue_delete(config: Path | None, message_id: str) -> None:
    """Delete a message and everything recorded about it."""
    if not _with_store(_settings(config), lambda store: store.delete_message(message_id)):
        raise click.ClickException(f"no message {message_id}")
    click.echo(f"deleted {message_id}")


def main() -> None:
    """Console-script entry point."""
    cli()


# -- Accounts' API keys and sender domains (services) ---------------------------------------

account_option = click.option("--account", required=True, help="The account's name.")


def _with_services(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    async def run(store: SqlStore) -> T:
        services = Services.build(settings, store, None, SystemClock())
        try:
            return await work(services)
        finally:
            await services.close()

    return _with_store(settings, run)


def _echo_domain(view: DomainView) -> None:
    checked = (
        view.last_checked_at.isoformat(timespec="seconds") if view.last_checked_at else "never"
    )
    click.echo(f"{view.name}: {view.status.value} (selector {view.selector}; checked {checked})")
    for record in view.records:
        need = "required" if record.required else "advised"
        click.echo(f"  [{record.status}] {record.purpose} ({need}) {record.type} {record.name}")
        if record.type == "TXT":
            click.echo("    " + " ".join(f'"{s}"' for s in record.value_strings))
        else:
            click.echo(f"    {record.value}")
        if record.found and record.status != "verified":
            click.echo(f"    found: {' | '.join(record.found)}")
        if record.problem:
            click.echo(f"    ! {record.problem}")


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@config_option
@account_option
def keys_create(config: Path | None, account: str) -> None:
    """Create a key for the account (created if new) and print it: it is shown only once."""
    info, token = _with_services(_settings(config), lambda s: s.keys.create(account))
    click.echo(token)
    click.echo(f"key {info.id} ({info.prefix}...) for account {account}; store it now", err=True)


@keys.command("list")
@config_option
@account_option
def keys_list(config: Path | None, account: str) -> None:
    """The account's keys by prefix, with creation, last use and revocation."""

    async def work(services: Services) -> list[ApiKeyInfo]:
        owner = await services.keys.existing_account(account)
        return await services.keys.list(owner.id)

    for info in _with_services(_settings(config), work):
        used = info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else "never"
        revoked = (
            f"  revoked {info.revoked_at.isoformat(timespec='seconds')}" if info.revoked_at else ""
        )
        click.echo(
            f"{info.id}  {info.prefix}...  created {info.created_at.isoformat(timespec='seconds')}"
            f"  last used {used}{revoked}"
        )


@keys.command("revoke")
@config_option
@account_option
@click.argument("key_id")
def keys_revoke(config: Path | None, account: str, key_id: str) -> None:
    """Revoke a key: it is refused from the next request on."""

    async def work(services: Services) -> bool:
        owner = await services.keys.existing_account(account)
        return await services.keys.revoke(owner.id, key_id)

    revoked = _with_services(_settings(config), work)
    click.echo(f"revoked {key_id}" if revoked else f"{key_id} was revoked already")


@cli.group()
def domains() -> None:
    """Add, verify and show sender domains."""


@domains.command("add")
@config_option
@account_option
@click.argument("name")
def domains_add(config: Path | None, account: str, name: str) -> None:
    """Add a sender domain: prints the DNS records to publish before `domains verify`."""

    async def work(services: Services) -> DomainView:
        return await services.domains.add(await services.keys.account_named(account), name)

    _echo_domain(_with_services(_settings(config), work))


@domains.command("verify")
@config_option
@account_option
@click.argument("name")
def domains_verify(config: Path | None, account: str, name: str) -> None:
    """Check the domain's records through DNS, record by record (exit 1 unless verified)."""

    async def work(services: Services) -> DomainView:
        return await services.domains.verify(await services.keys.existing_account(account), name)

    view = _with_services(_settings(config), work)
    _echo_domain(view)
    if view.status is not DomainStatus.VERIFIED:
        raise SystemExit(1)


@domains.command("show")
@config_option
@account_option
@click.argument("name", required=False)
def domains_show(config: Path | None, account: str, name: str | None) -> None:
    """One domain with its records and their last check, or all of the account's."""

    async def work(services: Services) -> list[DomainView]:
        owner = await services.keys.existing_account(account)
        if name is not None:
            return [await services.domains.get(owner, name)]
        return await services.domains.list(owner)

    for view in _with_services(_settings(config), work):
        _echo_domain(view)


# -- Dashboard users (services) ---------------------------------------------------------------

password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@cli.group()
def users() -> None:
    """Add, list and remove people who sign in to the dashboard with a password."""


@users.command("add")
@config_option
@account_option
@password_stdin_option
@click.argument("email")
def users_add(config: Path | None, account: str, password_stdin: bool, email: str) -> None:
    """Add a dashboard user to the account (created if new); the password is asked twice."""
    settings = _settings(config)
    password = _password(password_stdin)

    async def work(services: Services) -> DashboardUserInfo:
        owner = await services.keys.account_named(account)
        return await services.users.add(owner, email, password)

    info = _with_services(settings, work)
    click.echo(f"added {info.email} to account {account}")


@users.command("list")
@config_option
@account_option
def users_list(config: Path | None, account: str) -> None:
    """The account's dashboard users, with creation and last sign-in."""

    async def work(services: Services) -> list[DashboardUserInfo]:
        owner = await services.keys.existing_account(account)
        return await services.users.list(owner.id)

    for info in _with_services(_settings(config), work):
        seen = (
            info.last_sign_in_at.isoformat(timespec="seconds") if info.last_sign_in_at else "never"
        )
        click.echo(
            f"{info.email}  created {info.created_at.isoformat(timespec='seconds')}"
            f"  last sign-in {seen}"
        )


@users.command("remove")
@config_option
@account_option
@click.argument("email")
def users_remove(config: Path | None, account: str, email: str) -> None:
    """Remove a dashboard user: their sessions end at once."""

    async def work(services: Services) -> None:
        owner = await services.keys.existing_account(account)
        await services.users.remove(owner.id, email)

    _with_services(_settings(config), work)
    click.echo(f"removed {email}")


@users.command("set-password")
@config_option
@account_option
@password_stdin_option
@click.argument("email")
def users_set_password(config: Path | None, account: str, password_stdin: bool, email: str) -> None:
    """Give a dashboard user a new password: their older sessions end."""
    settings = _settings(config)
    password = _password(password_stdin)

    async def work(services: Services) -> None:
        owner = await services.keys.existing_account(account)
        await services.users.set_password(owner.id, email, password)

    _with_services(settings, work)
    click.echo(f"set a new password for {email}")


# -- Reports received by mail on the return path -------------------------------------------

# Reports listed by default: the recent ones an operator looks at.
REPORTS_SHOWN = 50


@cli.group()
def reports() -> None:
    """Reports received by mail (bounces, delays, complaints), including unmatched ones."""


def _report_owner(account: str | None) -> Callable[[Services], Awaitable[str | None]]:
    async def owner(services: Services) -> str | None:
        return None if account is None else (await services.keys.account_named(account)).id

    return owner


@reports.command("list")
@config_option
@click.option("--account", default=None, help="The account's name; without it: unmatched ones.")
@click.option("--limit", default=REPORTS_SHOWN, show_default=True, type=click.IntRange(1, 1000))
def reports_list(config: Path | None, account: str | None, limit: int) -> None:
    """An account's reports, or (without --account) those that matched no message; newest
    first."""

    async def work(services: Services) -> list[StoredReport]:
        owner = await _report_owner(account)(services)
        return await services.return_path.reports(owner, limit=limit)

    for report in _with_services(_settings(config), work):
        click.echo(
            f"{report.id}  {report.received_at.isoformat(timespec='seconds')}  {report.kind}"
            f" ({report.shape})  to {report.rcpt_to}  from {report.peer or '?'}"
            f"  message {report.message_id or '-'}  applied to {report.matched}"
        )


@reports.command("show")
@config_option
@click.option("--account", default=None, help="The account's name; without it: unmatched ones.")
@click.argument("report_id")
def reports_show(config: Path | None, account: str | None, report_id: str) -> None:
    """Print the kept head of a report (its first 64 KiB) as received."""

    async def work(services: Services) -> bytes | None:
        owner = await _report_owner(account)(services)
        return await services.return_path.head(report_id, owner)

    head = _with_services(_settings(config), work)
    if head is None:
        raise click.ClickException(f"no report {report_id}")
    click.echo(head.decode("utf-8", errors="replace"))
