"""The policy file (RFC 8461 §3.2): valid policies, and every invalid one as NoPolicy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postillon.policy.model import MAX_POLICY_LIFETIME_S, MtaStsMode, MtaStsPolicy, NoPolicy
from postillon.policy.policy_text import parse_policy

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GOOD = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 86400\n"


def _parse(body: bytes | str) -> MtaStsPolicy | NoPolicy:
    return parse_policy(body, domain="example.com", policy_id="id1", fetched_at=AT)


def test_good_policy_has_every_field() -> None:
    assert _parse(GOOD) == MtaStsPolicy(
        domain="example.com",
        id="id1",
        mode=MtaStsMode.ENFORCE,
        mx=("mail.example.com", "*.example.net"),
        max_age_s=86400,
        fetched_at=AT,
    )


@pytest.mark.parametrize(
    ("body", "mode", "mx", "max_age_s"),
    [
        pytest.param(GOOD.replace("\n", "\r\n"), "enforce", 2, 86400, id="crlf"),
        pytest.param(GOOD.rstrip("\n"), "enforce", 2, 86400, id="no-final-line-end"),
        pytest.param(GOOD.encode(), "enforce", 2, 86400, id="bytes"),
        pytest.param(
            "version: STSv1\r\nmode: testing\nmx: a.example\r\nmax_age: 5",
            "testing",
            1,
            5,
            id="mixed-line-ends",
        ),
        pytest.param("version: STSv1\nmode: none\nmax_age: 60\n", "none", 0, 60, id="none-no-mx"),
        pytest.param(
            "max_age:0\nmx:a.example\nmode:enforce\nversion:STSv1",
            "enforce",
            1,
            0,
            id="any-order-no-space-max-age-zero",
        ),
        pytest.param(
            "version: STSv1 \t\nmode:\tenforce\nmx: a.example  \nmax_age: 86400\t",
            "enforce",
            1,
            86400,
            id="whitespace-around-values",
        ),
        pytest.param(
            GOOD + "\n\n  \nfuture_key: some value\nx.y-z_1: \u00e9t\u00e9\n",
            "enforce",
            2,
            86400,
            id="blank-lines-unknown-keys-utf8",
        ),
        pytest.param(
            GOOD + "mode: testing\nversion: STSv9\nmax_age: 1\n",
            "enforce",
            2,
            86400,
            id="repeated-fields-first-wins",
        ),
        pytest.param(
            GOOD.replace("86400", "604801"),
            "enforce",
            2,
            MAX_POLICY_LIFETIME_S,
            id="max-age-capped-at-one-week",
        ),
        pytest.param(
            GOOD.replace("86400", "31557600"),
            "enforce",
            2,
            MAX_POLICY_LIFETIME_S,
            id="max-age-rfc-maximum-capped",
        ),
        pytest.param(
            GOOD.replace("86400", "0000086400"), "enforce", 2, 86400, id="max-age-ten-digits"
        ),
        pytest.param(GOOD + "mx: mail.example.com\n", "enforce", 2, 86400, id="duplicate-mx-once"),
    ],
)
def test_valid_policies(body: str | bytes, mode: str, mx: int, max_age_s: int) -> None:
    policy = _parse(body)
    assert isinstance(policy, MtaStsPolicy), policy
    assert (policy.mode.value, len(policy.mx), policy.max_age_s) == (mode, mx, max_age_s)


def test_mx_patterns_are_normalised() -> None:
    policy = _parse(GOOD.replace("mail.example.com", "MAIL.Example.COM."))
    assert isinstance(policy, MtaStsPolicy)
    assert policy.mx == ("mail.example.com", "*.example.net")


def _without(key: str) -> str:
    return "".join(line + "\n" for line in GOOD.splitlines() if not line.startswith(key))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("", "version", id="empty"),
        pytest.param(_without("version"), "version", id="no-version"),
        pytest.param(GOOD.replace("STSv1", "STSv2"), "version", id="version-2"),
        pytest.param(GOOD.replace("STSv1", "stsv1"), "version", id="version-case"),
        pytest.param(_without("mode"), "mode", id="no-mode"),
        pytest.param(GOOD.replace("enforce", "report"), "mode", id="mode-report-draft"),
        pytest.param(GOOD.replace("enforce", "Enforce"), "mode", id="mode-case"),
        pytest.param(GOOD.replace("mode:", "Mode:"), "mode", id="key-case"),
        pytest.param(GOOD.replace("enforce", ""), "mode", id="mode-empty"),
        pytest.param(_without("max_age"), "max_age", id="no-max-age"),
        pytest.param(GOOD.replace("86400", "-1"), "max_age", id="max-age-negative"),
        pytest.param(GOOD.replace("86400", "1.5"), "max_age", id="max-age-decimal"),
        pytest.param(GOOD.replace("86400", "1e5"), "max_age", id="max-age-exponent"),
        pytest.param(GOOD.replace("86400", ""), "max_age", id="max-age-empty"),
        pytest.param(GOOD.replace("86400", "86 400"), "max_age", id="max-age-space"),
        pytest.param(GOOD.replace("86400", "31557601"), "max_age", id="max-age-over-a-year"),
        pytest.param(GOOD.replace("86400", "12345678901"), "max_age", id="max-age-eleven-digits"),
        pytest.param(
            GOOD.replace("86400", "\u0661\u0662"), "max_age", id="max-age-non-ascii-digits"
        ),
        pytest.param(_without("mx"), "needs at least one mx", id="enforce-without-mx"),
        pytest.param(
            _without("mx").replace("enforce", "testing"),
            "needs at least one mx",
            id="testing-without-mx",
        ),
        pytest.param(GOOD + "mx: *\n", "mx", id="mx-bare-star"),
        pytest.param(GOOD + "mx: *.\n", "mx", id="mx-star-dot"),
        pytest.param(GOOD + "mx: *.*.example.com\n", "mx", id="mx-double-wildcard"),
        pytest.param(GOOD + "mx: mx.*.example.com\n", "mx", id="mx-inner-wildcard"),
        pytest.param(GOOD + "mx: mx*.example.com\n", "mx", id="mx-partial-wildcard"),
        pytest.param(GOOD + "mx: .example.com\n", "mx", id="mx-draft-suffix-form"),
        pytest.param(GOOD + "mx: mx..example.com\n", "mx", id="mx-empty-label"),
        pytest.param(GOOD + "mx: -mx.example.com\n", "mx", id="mx-leading-hyphen"),
        pytest.param(GOOD + "mx: mx_1.example.com\n", "mx", id="mx-underscore"),
        pytest.param(GOOD + "mx: m\u00fc.example.com\n", "mx", id="mx-u-label"),
        pytest.param(GOOD + "mx: " + "a" * 64 + ".example.com\n", "mx", id="mx-label-64"),
        pytest.param(GOOD + "mx:\n", "mx", id="mx-empty"),
        pytest.param(GOOD + "this line has no colon\n", "line 6", id="line-without-colon"),
        pytest.param(" " + GOOD, "line 1", id="leading-space-on-key"),
        pytest.param(GOOD.replace("mode:", "mode :"), "line 2", id="space-before-colon"),
        pytest.param(GOOD.replace("\n", "\r"), "version", id="bare-cr-line-ends"),
        pytest.param(GOOD.encode() + b"\xff\xfe", "UTF-8", id="not-utf8"),
    ],
)
def test_invalid_policies_mean_no_policy_with_a_reason(body: str | bytes, reason: str) -> None:
    result = _parse(body)
    assert isinstance(result, NoPolicy), result
    assert reason in result.reason


@settings(deadline=None)  # a loaded CI machine must not fail a parser test
@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_raising(body: bytes) -> None:
    assert isinstance(_parse(body), MtaStsPolicy | NoPolicy)


@settings(deadline=None)  # a loaded CI machine must not fail a parser test
@given(st.text(max_size=2000))
def test_any_text_parses_without_raising(body: str) -> None:
    assert isinstance(_parse(body), MtaStsPolicy | NoPolicy)


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_pattern = st.tuples(st.booleans(), _host).map(lambda t: ("*." if t[0] else "") + t[1])


@settings(deadline=None)  # a loaded CI machine must not fail a parser test
@given(
    mode=st.sampled_from(list(MtaStsMode)),
    mx=st.lists(_pattern, min_size=1, max_size=5, unique=True),
    max_age=st.integers(min_value=0, max_value=31_557_600),
    eol=st.sampled_from(["\n", "\r\n"]),
    extra=st.lists(st.tuples(st.sampled_from(["ext", "note", "a.b"]), _host), max_size=3),
)
def test_generated_valid_policies_round_trip(
    mode: MtaStsMode, mx: list[str], max_age: int, eol: str, extra: list[tuple[str, str]]
) -> None:
    lines = ["version: STSv1", f"mode: {mode.value}", f"max_age: {max_age}"]
    lines += [f"mx: {m}" for m in mx] + [f"{k}: {v}" for k, v in extra]
    policy = _parse(eol.join(lines) + eol)
    assert isinstance(policy, MtaStsPolicy), policy
    assert policy.mode is mode
    assert policy.mx == tuple(mx)
    assert policy.max_age_s == min(max_age, MAX_POLICY_LIFETIME_S)
