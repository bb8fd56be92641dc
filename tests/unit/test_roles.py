"""``--role``: each role says what it runs; the CLI refuses unknown names, naming the choices."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from postillon.cli import cli
from postillon.roles import Role


@pytest.mark.parametrize(
    ("role", "api", "delivery"),
    [
        pytest.param(Role.API, True, False, id="api"),
        pytest.param(Role.WORKER, False, True, id="worker"),
        pytest.param(Role.ALL, True, True, id="all"),
    ],
)
def test_each_role_says_what_it_runs(role: Role, api: bool, delivery: bool) -> None:
    assert role.runs_api is api
    assert role.runs_delivery is delivery


def test_serve_refuses_an_unknown_role_naming_the_choices() -> None:
    result = CliRunner().invoke(cli, ["serve", "--role", "delivery"])

    assert result.exit_code == 2
    assert "'delivery'" in result.output
    for role in Role:
        assert role.value in result.output
