"""Load :class:`Settings` from a TOML file and ``POSTILLON_*`` environment variables.

Precedence, lowest first: defaults, the TOML file, the environment. An environment variable
``POSTILLON_DELIVERY__SMTP_PORT=2525`` sets ``[delivery] smtp_port``; nested tables use more
``__`` (``POSTILLON_DELIVERY__TIMEOUTS__CONNECT_S``). Values are parsed as JSON when they parse
(numbers, booleans, lists), else taken as strings; a list setting also takes a comma-separated
string (``POSTILLON_DELIVERY__BIND_ADDRESSES=192.0.2.1,192.0.2.2``). Any unknown or invalid key
raises :class:`ConfigError` naming it, e.g. ``delivery.smtp_prot: unknown setting``.

The data directory (``[storage] data_dir``) is made absolute here: a relative one is taken from
the config file's folder; when unset it is ``$POSTILLON_HOME``, else ``var`` beside the config
file, else ``var`` in the working directory. :func:`find_config` is how ``serve`` and every CLI
command find the file: ``--config``, ``POSTILLON_CONFIG``, then ``./postillon.toml``.
"""

from __future__ import annotations

import json
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError

from postillon.config.settings import DEFAULT_DATA_DIR, Settings
from postillon.errors import ConfigError

ENV_PREFIX = "POSTILLON_"
CONFIG_ENV = "POSTILLON_CONFIG"
HOME_ENV = "POSTILLON_HOME"
# The file found in the working directory when neither --config nor POSTILLON_CONFIG names one.
DEFAULT_CONFIG_NAME = "postillon.toml"
# Variables with our prefix that are not settings (the config file, the data directory).
_NOT_SETTINGS = frozenset({CONFIG_ENV, HOME_ENV})


def find_config(explicit: Path | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    """The config file to load: ``explicit`` (``--config``), ``POSTILLON_CONFIG``, then
    ``postillon.toml`` in ``cwd`` if it exists; None means defaults and environment only."""
    if explicit is not None:
        return explicit
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    candidate = cwd / DEFAULT_CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``path`` (optional TOML) and ``env`` (default: no overrides).

    Raises ConfigError naming the bad key, or the file, when anything is wrong.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    env = env or {}
    lists = _list_paths(Settings)
    for name, raw in env.items():
        if name.startswith(ENV_PREFIX) and name not in _NOT_SETTINGS:
            keys = name[len(ENV_PREFIX) :].lower().split("__")
            value = _parse_env_value(raw)
            if tuple(keys) in lists and isinstance(value, str):
                value = [item.strip() for item in value.split(",") if item.strip()]
            _set_path(data, keys, value)
    _place_data_dir(data, path, env)
    delivery = data.setdefault("delivery", {})
    if isinstance(delivery, dict) and "helo_name" not in delivery:
        delivery["helo_name"] = machine_fqdn()
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from exc


def _set_path(data: dict[str, Any], keys: list[str], value: object) -> None:
    node = data
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{'.'.join(keys)}: {key} is a value, not a table")
        node = child
    node[keys[-1]] = value


def machine_fqdn() -> str:
    """This machine's fully qualified name as the resolver knows it, the default
    ``[delivery] helo_name`` (without a dot when the machine has none: check-config warns)."""
    return socket.getfqdn()


def _place_data_dir(data: dict[str, Any], path: Path | None, env: Mapping[str, str]) -> None:
    storage = data.get("storage")
    if storage is not None and not isinstance(storage, dict):
        return  # the model names the bad key
    storage = data.setdefault("storage", {})
    base = path.resolve().parent if path is not None else Path.cwd()
    given = storage.get("data_dir")
    if isinstance(given, str) and given:
        storage["data_dir"] = str(base / Path(given).expanduser())
    elif given is None:
        home = env.get(HOME_ENV)
        storage["data_dir"] = str(Path(home).resolve() if home else base / DEFAULT_DATA_DIR)


def _list_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The key paths of every list (tuple) setting, for comma-separated environment values."""
    paths: set[tuple[str, ...]] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= _list_paths(annotation, (*prefix, name))
        elif get_origin(annotation) is tuple:
            paths.add((*prefix, name))
    return paths


def _parse_env_value(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = f"{path}: " if path else ""
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        reason = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{key}: {reason}")
    return where + "; ".join(problems)
