"""Load :class:`Settings` from a TOML file and ``POSTILLON_*`` environment variables.

Precedence, lowest first: defaults, the TOML file, the environment. An environment variable
``POSTILLON_DELIVERY__SMTP_PORT=2525`` sets ``[delivery] smtp_port``; nested tables use more
``__`` (``POSTILLON_DELIVERY__TIMEOUTS__CONNECT_S``). Values are parsed as JSON when they parse
(numbers, booleans, lists), else taken as strings. Any unknown or invalid key raises
:class:`ConfigError` naming it, e.g. ``delivery.smtp_prot: unknown setting``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from postillon.config.settings import Settings
from postillon.errors import ConfigError

ENV_PREFIX = "POSTILLON_"
# Variables with our prefix that are not settings (the path of the file itself).
_NOT_SETTINGS = frozenset({"POSTILLON_CONFIG"})


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
    for name, raw in (env or {}).items():
        if name.startswith(ENV_PREFIX) and name not in _NOT_SETTINGS:
            _set_path(data, name[len(ENV_PREFIX) :].lower().split("__"), _parse_env_value(raw))
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
