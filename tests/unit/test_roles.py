"""``--role``: names parse to roles, each role says what it runs, unknown names are refused."""

from __future__ import annotations

import pytest

from postillon.roles import Role, RoleError, parse_role


@pytest.mark.parametrize(
    ("text", "role", "api", "delivery"),
    [
        pytest.param("api", Role.API, True, False, id="api"),
        pytest.param("worker", Role.WORKER, False, True, id="worker"),
        pytest.param("all", Role.ALL, True, True, id="all"),
        pytest.param(" Worker ", Role.WORKER, False, True, id="case-and-space"),
    ],
)
def test_roles_parse_and_say_what_they_run(
    text: str, role: Role, api: bool, delivery: bool
) -> None:
    parsed = parse_role(text)

    assert parsed is role
    assert parsed.runs_api is api
    assert parsed.runs_delivery is delivery


def test_an_unknown_role_is_a_permanent_error_naming_the_choices() -> None:
    with pytest.raises(RoleError, match=r"'delivery'.*api\|worker\|all") as caught:
        parse_role("delivery")

    assert caught.value.is_transient is False
