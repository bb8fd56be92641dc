"""check-config's warnings: what a deployment should still set, each naming where."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import SecretStr

from postillon.config.checks import config_warnings
from postillon.config.settings import (
    DashboardSettings,
    DeliverySettings,
    DkimSettings,
    Settings,
    StorageSettings,
)

SECRET = base64.b64encode(b"s" * 32).decode()


def complete(tmp_path: Path) -> Settings:
    key = tmp_path / "dkim-master.key"
    key.write_bytes(b"k" * 32)
    return Settings(
        storage=StorageSettings(data_dir=tmp_path),
        delivery=DeliverySettings(helo_name="mta1.example.net", spf_addresses=("203.0.113.5",)),
        dashboard=DashboardSettings(session_secret=SecretStr(SECRET)),
        dkim=DkimSettings(master_key_file=key),
    )


def test_a_complete_deployment_has_no_warning(tmp_path: Path) -> None:
    assert config_warnings(complete(tmp_path)) == []


def test_the_default_config_warns_about_what_to_set(tmp_path: Path) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path), delivery=DeliverySettings(helo_name="vm")
    )
    found = "\n".join(config_warnings(settings))
    assert "[delivery] helo_name is 'vm', not a fully qualified domain name" in found
    assert "[delivery] spf_addresses (and bind_addresses) are empty" in found
    assert "a:vm" in found
    assert "[dashboard] session_secret is not set" in found
    assert f"{tmp_path / 'dkim-master.key'} does not exist yet" in found


def test_localhost_is_not_an_fqdn(tmp_path: Path) -> None:
    settings = complete(tmp_path)
    delivery = settings.delivery.model_copy(update={"helo_name": "localhost.localdomain"})
    [warning] = config_warnings(settings.model_copy(update={"delivery": delivery}))
    assert warning.startswith("[delivery] helo_name is 'localhost.localdomain'")


def test_source_addresses_is_reported_as_deprecated(tmp_path: Path) -> None:
    settings = complete(tmp_path).model_copy(
        update={
            "delivery": DeliverySettings(
                helo_name="mta1.example.net", source_addresses=("203.0.113.5",)
            )
        }
    )
    [warning] = config_warnings(settings)
    assert "source_addresses is deprecated" in warning
    assert settings.delivery.bind_addresses == settings.delivery.spf_addresses == ("203.0.113.5",)


def test_no_warning_quotes_a_secret(tmp_path: Path) -> None:
    settings = complete(tmp_path).model_copy(
        update={"dkim": DkimSettings(master_key=SecretStr(base64.b64encode(b"m" * 32).decode()))}
    )
    text = "\n".join(config_warnings(settings))
    assert SECRET not in text
    assert settings.dkim.master_key is not None
    assert settings.dkim.master_key.get_secret_value() not in text
