"""``[api] listen`` parsing."""

from __future__ import annotations

import pytest

from postillon.api.body_limit import max_body_bytes
from postillon.api.server import parse_listen
from postillon.errors import ConfigError


@pytest.mark.parametrize(
    ("listen", "parsed"),
    [
        pytest.param("127.0.0.1:8025", ("127.0.0.1", 8025), id="ipv4"),
        pytest.param("[::1]:8025", ("::1", 8025), id="ipv6"),
        pytest.param("localhost:0", ("localhost", 0), id="any-port"),
    ],
)
def test_parse_listen(listen: str, parsed: tuple[str, int]) -> None:
    assert parse_listen(listen) == parsed


@pytest.mark.parametrize("listen", ["8025", ":8025", "host:", "host:port", "host:70000"])
def test_a_bad_listen_is_a_config_error_naming_the_key(listen: str) -> None:
    with pytest.raises(ConfigError, match=r"api\.listen"):
        parse_listen(listen)


def test_the_body_limit_holds_a_base64_message_of_the_limit() -> None:
    assert max_body_bytes(3) == 4 + 1024 * 1024
    assert max_body_bytes(4) == 8 + 1024 * 1024
