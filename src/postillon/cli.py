"""The ``postillon`` command: the edge where a person (or an init system) drives the service."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
import structlog

from postillon.app import Node, ensure_sqlite_dir
from postillon.clock import SystemClock
from postillon.config import Settings, load_settings
from postillon.errors import ConfigError, PostillonError
from postillon.queue.status import RecipientStatus
from postillon.storage.sql_store import SqlStore

T = TypeVar("T")

config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="POSTILLON_CONFIG",
    help="TOML config file (POSTILLON_CONFIG).",
)


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config, os.environ)
    except ConfigError as exc:
        raise click.ClickException(f"bad config: {exc}") from exc


def _with_store(settings: Settings, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    async def run() -> T:
        ensure_sqlite_dir(settings.storage.url)
        store = SqlStore.from_url(settings.storage.url, SystemClock())
        try:
            await store.migrate()
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
    """Load the settings and print them as the service would see them."""
    click.echo(_settings(config).model_dump_json(indent=2))


@cli.command()
@config_option
def serve(config: Path | None) -> None:
    """Run the service until SIGTERM or SIGINT (in-flight transactions are drained)."""
    settings = _settings(config)
    structlog.configure(
        processors=[structlog.processors.TimeStamper(fmt="iso"), structlog.dev.ConsoleRenderer()]
    )
    try:
        asyncio.run(_serve(settings))
    except PostillonError as exc:
        raise click.ClickException(str(exc)) from exc


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    node = Node(settings)
    click.echo(f"postillon serving (storage {settings.storage.url}); SIGTERM stops it", err=True)
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
