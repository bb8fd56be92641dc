"""The policy file served at ``/.well-known/mta-sts.txt`` (RFC 8461 §3.2), parsed.

Owns: turning the fetched body into an :class:`MtaStsPolicy`, or into :class:`NoPolicy` with the
reason when anything is invalid. Pure: it must not fetch the body (``fetch.py``), read the clock
(the caller passes ``fetched_at``) or cache anything.
"""

from __future__ import annotations

import re
from datetime import datetime

from postillon.policy.model import (
    MAX_POLICY_LIFETIME_S,
    RFC_MAX_AGE_S,
    MtaStsMode,
    MtaStsPolicy,
    NoPolicy,
)
from postillon.policy.mx_match import parse_mx_pattern

# RFC 8461 §3.2: sts-policy-version-value = %s"STSv1" (case-sensitive, like every key and mode).
POLICY_VERSION = "STSv1"
# RFC 8461 §3.2: sts-policy-max-age-value = 1*10(DIGIT).
_MAX_AGE = re.compile(r"[0-9]{1,10}")
# RFC 8461 §3.2: sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".");
# the four known keys fit this syntax too.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_WSP = " \t"
_MODES = {mode.value: mode for mode in MtaStsMode}


def parse_policy(
    body: bytes | str, *, domain: str, policy_id: str, fetched_at: datetime
) -> MtaStsPolicy | NoPolicy:
    """Parse a policy body for ``domain``, fetched at ``fetched_at`` under TXT id ``policy_id``.

    Lines end in LF or CRLF; blank lines and unknown keys are ignored; a repeated key other than
    ``mx`` keeps its first value (RFC 8461 §3.2). ``version``, ``mode`` and ``max_age`` are
    required, and at least one ``mx`` unless the mode is ``none``. ``max_age`` above one year is
    invalid (§3.2); up to that it is capped at one week. Never raises.
    """
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return NoPolicy("the policy is not UTF-8 text")
    else:
        text = body
    fields: dict[str, str] = {}
    mx_values: list[str] = []
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.removesuffix("\r")
        if line.strip(_WSP) == "":
            continue
        key, sep, raw_value = line.partition(":")
        if not sep or not _KEY.fullmatch(key):
            return NoPolicy(f"line {number} is not 'key: value'")
        value = raw_value.strip(_WSP)
        if key == "mx":
            mx_values.append(value)
        else:
            fields.setdefault(key, value)
    return _build(fields, mx_values, domain=domain, policy_id=policy_id, fetched_at=fetched_at)


def _build(
    fields: dict[str, str],
    mx_values: list[str],
    *,
    domain: str,
    policy_id: str,
    fetched_at: datetime,
) -> MtaStsPolicy | NoPolicy:
    version = fields.get("version")
    if version != POLICY_VERSION:
        return NoPolicy(f"version is {version!r}, not {POLICY_VERSION!r}")
    mode_text = fields.get("mode")
    mode = _MODES.get(mode_text or "")
    if mode is None:
        return NoPolicy(f"mode is {mode_text!r}, not enforce, testing or none")
    max_age_text = fields.get("max_age")
    if max_age_text is None or not _MAX_AGE.fullmatch(max_age_text):
        return NoPolicy(f"max_age is {max_age_text!r}, not 1 to 10 digits")
    max_age_s = int(max_age_text)
    if max_age_s > RFC_MAX_AGE_S:
        return NoPolicy(f"max_age {max_age_s} exceeds the RFC 8461 maximum of {RFC_MAX_AGE_S}")
    patterns: list[str] = []
    for value in mx_values:
        pattern = parse_mx_pattern(value)
        if pattern is None:
            return NoPolicy(f"mx {value!r} is not a host name or *.host name")
        if pattern not in patterns:
            patterns.append(pattern)
    if not patterns and mode is not MtaStsMode.NONE:
        return NoPolicy(f"mode {mode.value} needs at least one mx")
    return MtaStsPolicy(
        domain=domain,
        id=policy_id,
        mode=mode,
        mx=tuple(patterns),
        max_age_s=min(max_age_s, MAX_POLICY_LIFETIME_S),
        fetched_at=fetched_at,
    )
