"""The ``postillon`` command: the edge where a person (or an init system) drives the service."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import click

from postillon.config import Settings, load_settings
from postillon.errors import ConfigError


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config, os.environ)
    except ConfigError as exc:
        raise click.ClickException(f"bad config: {exc}") from exc


@click.group()
@click.version_option(package_name="postillon")
def cli() -> None:
    """postillon: email sending on its own outbound MTA."""


@cli.command("check-config")
@click.option("--config", type=click.Path(path_type=Path), envvar="POSTILLON_CONFIG")
def check_config(config: Path | None) -> None:
    """Load the settings and print them as the service would see them."""
    settings = _settings(config)
    click.echo(settings.model_dump_json(indent=2))


@cli.command()
@click.option("--config", type=click.Path(path_type=Path), envvar="POSTILLON_CONFIG")
def serve(config: Path | None) -> None:
    """Run the service until SIGTERM or SIGINT."""
    settings = _settings(config)
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"postillon serving (storage {settings.storage.url}); SIGTERM stops it")
    await stop.wait()
    click.echo("postillon stopped")


def main() -> None:
    """Console-script entry point."""
    cli()
