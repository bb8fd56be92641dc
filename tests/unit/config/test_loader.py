"""Settings: defaults, TOML, environment overrides, and errors that name the bad key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from postillon.config import load_settings
from postillon.errors import ConfigError


def test_defaults_follow_rfc5321_timeouts() -> None:
    settings = load_settings()
    assert settings.delivery.smtp_port == 25
    assert settings.delivery.timeouts.final_dot_s == 600.0
    assert settings.delivery.timeouts.greeting_s == 300.0
    assert settings.storage.url.startswith("sqlite:///")


def test_toml_file_and_env_override(tmp_path: Path) -> None:
    cfg = tmp_path / "postillon.toml"
    cfg.write_text(
        '[dns]\nnameservers = ["127.0.0.53:5353"]\n'
        '[delivery]\nhelo_name = "mta1.example.net"\nsmtp_port = 2525\n'
        "[delivery.timeouts]\nconnect_s = 3\n"
    )
    env = {"POSTILLON_DELIVERY__SMTP_PORT": "25", "POSTILLON_DELIVERY__TIMEOUTS__RCPT_S": "7.5"}
    settings = load_settings(cfg, env)
    assert settings.dns.nameservers == ("127.0.0.53:5353",)
    assert settings.delivery.helo_name == "mta1.example.net"
    assert settings.delivery.smtp_port == 25
    assert settings.delivery.timeouts.connect_s == 3
    assert settings.delivery.timeouts.rcpt_s == 7.5


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        pytest.param("[delivery]\nsmtp_prot = 25\n", {}, "delivery.smtp_prot: unknown", id="typo"),
        pytest.param("[nosuch]\nx = 1\n", {}, "nosuch: unknown", id="unknown-section"),
        pytest.param("[delivery]\nsmtp_port = 0\n", {}, "delivery.smtp_port", id="out-of-range"),
        pytest.param("", {"POSTILLON_DNS__TIMEOUT_S": "soon"}, "dns.timeout_s", id="env-bad"),
        pytest.param("", {"POSTILLON_DSN__X": "1"}, "dsn: unknown", id="env-unknown"),
        pytest.param(
            '[dashboard]\nsession_secret = "c2hvcnQ="\n',
            {},
            "dashboard.session_secret",
            id="session-secret-short",
        ),
        pytest.param(
            "",
            {"POSTILLON_DASHBOARD__SESSION_SECRET": "not base64!"},
            "dashboard.session_secret",
            id="session-secret-not-base64",
        ),
        pytest.param(
            '[tlsrpt]\nenabled = true\norganization_name = "Org"\n',
            {},
            "tlsrpt.contact_info is required",
            id="tlsrpt-incomplete",
        ),
        pytest.param("", {"POSTILLON_DNS__DNSSEC": "maybe"}, "dns.dnssec", id="dnssec-not-bool"),
    ],
)
def test_bad_config_names_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], named: str
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings(cfg, env)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[delivery\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_settings(cfg)


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.delivery.smtp_port = 26


def test_a_session_secret_is_decoded_and_never_shown(tmp_path: Path) -> None:
    secret = base64.b64encode(b"s" * 32).decode()
    cfg = tmp_path / "ok.toml"
    cfg.write_text(f'[dashboard]\nsession_secret = "{secret}"\n')
    settings = load_settings(cfg, {})
    assert settings.dashboard.secret_octets() == b"s" * 32
    assert secret not in repr(settings)


def test_a_bad_session_secret_is_not_quoted_in_the_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[dashboard]\nsession_secret = "dG9vLXNob3J0LXNlY3JldA=="\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg, {})
    assert "dG9vLXNob3J0LXNlY3JldA" not in str(caught.value)
    assert "at least 32 octets (this one holds 16)" in str(caught.value)
