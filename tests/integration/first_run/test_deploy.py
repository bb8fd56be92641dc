"""``deploy/``: the systemd unit passes ``systemd-analyze verify`` and the production config
example loads as the service would load it.

``systemd-analyze verify`` exits 0 even for unknown keys and unparsable values (it warns and
ignores them), so any output at all is a failure here. The unit's ExecStart is pointed at this
checkout's ``postillon`` (verify requires an existing executable); nothing else is changed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from postillon.config import load_settings

REPO = Path(__file__).resolve().parents[3]
UNIT = REPO / "deploy" / "postillon@.service"
EXAMPLE = REPO / "deploy" / "postillon.toml"
INSTALLED = "/opt/postillon/.venv/bin/postillon"
VERIFY_TIMEOUT_S = 60

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package systemd, scripts/install-debs.sh)",
)


def verify(unit_text: str, tmp_path: Path, instance: str = "all") -> str:
    unit = tmp_path / f"postillon@{instance}.service"
    unit.write_text(unit_text.replace(INSTALLED, str(Path(sys.executable).parent / "postillon")))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=VERIFY_TIMEOUT_S,
        check=False,
    )
    return f"{done.returncode}\n{done.stdout}{done.stderr}".strip()


@pytest.mark.parametrize("role", ["all", "api", "worker"])
def test_the_unit_verifies_for_every_role(tmp_path: Path, role: str) -> None:
    text = UNIT.read_text()
    assert INSTALLED in text
    assert verify(text, tmp_path, role) == "0"


def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystem=sometimes")
    assert "protect system value" in verify(broken, tmp_path)


def test_the_unit_runs_the_role_as_its_own_user_with_limits() -> None:
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED} serve --role %i" in text
    assert "User=postillon" in text
    assert "StateDirectory=postillon" in text
    assert "LimitNOFILE=" in text


def test_the_production_example_loads_and_keeps_state_in_the_state_directory() -> None:
    settings = load_settings(EXAMPLE, {})
    assert settings.storage.data_dir == Path("/var/lib/postillon")
    assert settings.storage.url == "sqlite:////var/lib/postillon/postillon.db"
    assert settings.delivery.bind_addresses != settings.delivery.spf_addresses
    assert settings.metrics.listen == "127.0.0.1:9108"
