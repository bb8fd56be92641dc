"""Settings: defaults, TOML, environment overrides, and errors that name the bad key."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from postillon.config import load_settings
from postillon.config.loader import find_config
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
        pytest.param(
            "[api]\nmax_recipients_per_message = 5000\n",
            {},
            "api.max_recipients_per_message",
            id="recipient-cap-over-1000",
        ),
        pytest.param("", {"POSTILLON_DSN__X": "1"}, "dsn: unknown", id="env-unknown"),
        pytest.param("", {"POSTILLON_API__LISTEN": "8025"}, "api.listen", id="listen-no-host"),
        pytest.param(
            "", {"POSTILLON_METRICS__LISTEN": "localhost:http"}, "metrics.listen", id="metrics"
        ),
        pytest.param('[delivery]\nhelo_name = "a..b"\n', {}, "delivery.helo_name", id="helo"),
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


# -- lists from the environment, the data directory, config discovery, address roles -------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('["203.0.113.5", "203.0.113.6"]', id="json-array"),
        pytest.param("203.0.113.5,203.0.113.6", id="comma-separated"),
        pytest.param(" 203.0.113.5 , 203.0.113.6 ,", id="spaces-and-trailing-comma"),
    ],
)
def test_list_settings_take_json_arrays_and_comma_separated_strings(raw: str) -> None:
    settings = load_settings(None, {"POSTILLON_DELIVERY__SPF_ADDRESSES": raw})
    assert settings.delivery.spf_addresses == ("203.0.113.5", "203.0.113.6")


def test_a_single_address_from_the_environment_is_a_one_item_list() -> None:
    settings = load_settings(None, {"POSTILLON_DELIVERY__BIND_ADDRESSES": "10.0.0.5"})
    assert settings.delivery.bind_addresses == ("10.0.0.5",)
    assert settings.delivery.public_addresses == ("10.0.0.5",)


def test_bind_and_spf_addresses_are_separate_behind_nat() -> None:
    settings = load_settings(
        None,
        {
            "POSTILLON_DELIVERY__BIND_ADDRESSES": "10.0.0.5",
            "POSTILLON_DELIVERY__SPF_ADDRESSES": "203.0.113.5",
        },
    )
    assert settings.delivery.bind_addresses == ("10.0.0.5",)
    assert settings.delivery.public_addresses == ("203.0.113.5",)


def test_deprecated_source_addresses_sets_both_unless_they_are_set(tmp_path: Path) -> None:
    cfg = tmp_path / "postillon.toml"
    cfg.write_text('[delivery]\nsource_addresses = ["192.0.2.7"]\nbind_addresses = ["10.0.0.7"]\n')
    settings = load_settings(cfg)
    assert settings.delivery.bind_addresses == ("10.0.0.7",)
    assert settings.delivery.spf_addresses == ("192.0.2.7",)


def test_an_address_that_is_not_an_ip_is_named_at_load() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, {"POSTILLON_DELIVERY__SPF_ADDRESSES": "mta.example.net"})
    assert "delivery.spf_addresses" in str(raised.value)
    assert "'mta.example.net' is not an IP address" in str(raised.value)


def test_helo_name_defaults_to_the_machines_fqdn() -> None:
    assert load_settings().delivery.helo_name == socket.getfqdn().rstrip(".")


def test_data_dir_is_beside_the_config_file_and_holds_the_state(tmp_path: Path) -> None:
    cfg = tmp_path / "etc" / "postillon.toml"
    cfg.parent.mkdir()
    cfg.write_text("")
    settings = load_settings(cfg, {})
    assert settings.storage.data_dir == tmp_path / "etc" / "var"
    assert settings.storage.url == f"sqlite:///{tmp_path}/etc/var/postillon.db"
    assert settings.master_key_path == tmp_path / "etc" / "var" / "dkim-master.key"


def test_relative_data_dir_is_taken_from_the_config_files_folder(tmp_path: Path) -> None:
    cfg = tmp_path / "postillon.toml"
    cfg.write_text('[storage]\ndata_dir = "state"\n')
    assert load_settings(cfg, {}).storage.data_dir == tmp_path / "state"


def test_postillon_home_is_the_data_dir_without_a_config(tmp_path: Path) -> None:
    settings = load_settings(None, {"POSTILLON_HOME": str(tmp_path)})
    assert settings.storage.data_dir == tmp_path
    assert settings.storage.url == f"sqlite:///{tmp_path}/postillon.db"


def test_an_explicit_url_and_key_file_win_over_the_data_dir(tmp_path: Path) -> None:
    cfg = tmp_path / "postillon.toml"
    cfg.write_text(
        '[storage]\nurl = "postgresql://db/postillon"\n[dkim]\nmaster_key_file = "/k/master"\n'
    )
    settings = load_settings(cfg, {"POSTILLON_HOME": str(tmp_path / "home")})
    assert settings.storage.url == "postgresql://db/postillon"
    assert settings.master_key_path == Path("/k/master")


def test_config_is_found_by_flag_then_environment_then_working_directory(
    tmp_path: Path,
) -> None:
    here = tmp_path / "postillon.toml"
    flag, env_file = tmp_path / "flag.toml", tmp_path / "env.toml"
    env = {"POSTILLON_CONFIG": str(env_file)}
    assert find_config(None, {}, tmp_path) is None
    here.write_text("")
    assert find_config(None, {}, tmp_path) == here
    assert find_config(None, env, tmp_path) == env_file
    assert find_config(flag, env, tmp_path) == flag
