"""check-config's warnings: what a deployment should still set, each naming where."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import SecretStr

from postillon.config.checks import config_warnings
from postillon.config.loader import load_settings
from postillon.config.settings import (
    ApiSettings,
    DashboardSettings,
    DeliverySettings,
    DkimSettings,
    InboundSettings,
    Settings,
    StorageSettings,
    SubmissionSettings,
)
from postillon.errors import ConfigError

SECRET = base64.b64encode(b"s" * 32).decode()


def complete(tmp_path: Path) -> Settings:
    key = tmp_path / "dkim-master.key"
    key.write_bytes(b"k" * 32)
    return Settings(
        storage=StorageSettings(data_dir=tmp_path),
        delivery=DeliverySettings(helo_name="mta1.example.net", spf_addresses=("203.0.113.5",)),
        dashboard=DashboardSettings(session_secret=SecretStr(SECRET)),
        dkim=DkimSettings(master_key_file=key),
        api=ApiSettings(public_url="https://mail.example.net"),
        inbound=InboundSettings(listen=("0.0.0.0:25",)),
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


def test_a_submission_certificate_that_is_not_there_is_named_before_start(
    tmp_path: Path,
) -> None:
    key = tmp_path / "submission.key"
    key.write_text("pem")
    submission = SubmissionSettings(
        implicit_tls_listen=("127.0.0.1:465",), cert_file=tmp_path / "gone.pem", key_file=key
    )
    [warning] = config_warnings(complete(tmp_path).model_copy(update={"submission": submission}))
    assert warning.startswith(f"[submission] cert_file / key_file: {tmp_path / 'gone.pem'} not")
    assert "not found or not readable: the submission listener" in warning
    assert "refuse to start" in warning
    assert str(key) not in warning


def test_a_submission_certificate_that_is_there_is_no_warning(tmp_path: Path) -> None:
    for name in ("chain.pem", "key.pem"):
        (tmp_path / name).write_text("pem")
    submission = SubmissionSettings(
        listen=("127.0.0.1:587",), cert_file=tmp_path / "chain.pem", key_file=tmp_path / "key.pem"
    )
    assert config_warnings(complete(tmp_path).model_copy(update={"submission": submission})) == []


def test_no_public_url_says_one_click_unsubscribe_is_impossible(tmp_path: Path) -> None:
    settings = complete(tmp_path).model_copy(update={"api": ApiSettings()})
    [warning] = config_warnings(settings)
    assert warning.startswith("[api] public_url is not set")
    assert "one-click unsubscribe" in warning


def test_no_inbound_listener_says_reports_by_mail_are_lost(tmp_path: Path) -> None:
    settings = complete(tmp_path).model_copy(update={"inbound": InboundSettings()})
    [warning] = config_warnings(settings)
    assert warning.startswith("[inbound] listen is empty: bounces and complaints")
    assert '["0.0.0.0:25"]' in warning
    assert "mta1.example.net" in warning


def test_a_submission_listener_without_certificate_stops_at_load_naming_cert_file() -> None:
    with pytest.raises(ConfigError, match="cert_file: submission listeners need a TLS"):
        load_settings(None, {"POSTILLON_SUBMISSION__IMPLICIT_TLS_LISTEN": "127.0.16.100:465"})
