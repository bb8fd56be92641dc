"""The ``_mta-sts`` TXT record (RFC 8461 §3.1): discovery of a policy and its current id.

Owns: choosing the one candidate record among a TXT answer and parsing it into
:class:`StsRecord`. Pure: it must not resolve names (the caller passes the answer in) or decide
what a missing record means for a cached policy (``cache.py`` does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from postillon.policy.model import NoPolicy

# RFC 8461 §3.1: the record name is "_mta-sts" under the policy domain.
RECORD_LABEL = "_mta-sts"
# RFC 8461 §3.1: records "that do not begin with 'v=STSv1;'" are discarded. Whitespace before the
# ";" is allowed by sts-field-delim, so a record is a candidate if ";" follows after any WSP.
_CANDIDATE = re.compile(r"v=STSv1[ \t]*;")
# RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT).
_ID_VALUE = re.compile(r"[A-Za-z0-9]{1,32}")
# RFC 8461 §3.1: sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
# RFC 8461 §3.1: sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E), i.e. no "=", ";", SP or controls.
_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_WSP = " \t"


# The outcome when no answer is even a candidate: the usual case (no MTA-STS), not worth a warning.
NO_RECORD = NoPolicy("no TXT record beginning with v=STSv1;")


@dataclass(frozen=True)
class StsRecord:
    """A valid ``_mta-sts`` record: ``id`` names the policy instance currently published."""

    id: str


def record_name(domain: str) -> str:
    """The TXT owner name that announces ``domain``'s policy: ``_mta-sts.<domain>``."""
    return f"{RECORD_LABEL}.{domain}"


def parse_sts_record(answers: Sequence[str]) -> StsRecord | NoPolicy:
    """Pick and parse the MTA-STS record among ``answers`` (one string per TXT record, its
    character-strings already joined).

    Returns the record, or :class:`NoPolicy` when there is more than one candidate or the one
    candidate is syntactically invalid (RFC 8461 §3.1), or :data:`NO_RECORD` when there is no
    candidate at all. Never raises.
    """
    candidates = [answer for answer in answers if _CANDIDATE.match(answer)]
    if not candidates:
        return NO_RECORD
    if len(candidates) > 1:
        return NoPolicy(f"{len(candidates)} TXT records begin with v=STSv1; exactly one is allowed")
    return _parse_one(candidates[0])


def _parse_one(text: str) -> StsRecord | NoPolicy:
    # Trailing whitespace is tolerated (some zone editors add it); everything else follows §3.1.
    fields = text.rstrip(_WSP).split(";")
    # The first field is "v=STSv1" (the candidate regex made sure); a trailing ";" is allowed.
    rest = fields[1:]
    if rest and rest[-1].strip(_WSP) == "":
        rest = rest[:-1]
    if not rest:
        return NoPolicy("the record has no id field")
    record_id: str | None = None
    for raw in rest:
        field = raw.strip(_WSP)
        name, sep, value = field.partition("=")
        if not sep or not _EXT_NAME.fullmatch(name):
            return NoPolicy(f"malformed field {field!r}")
        if name == "id":
            if not _ID_VALUE.fullmatch(value):
                return NoPolicy(f"invalid id {value!r}: 1 to 32 letters or digits")
            # RFC 8461 §3.2 ignores every repeat of a non-mx policy field after the first; the
            # record gets the same rule.
            if record_id is None:
                record_id = value
        elif not _EXT_VALUE.fullmatch(value):
            return NoPolicy(f"invalid value in extension field {field!r}")
    if record_id is None:
        return NoPolicy("the record has no id field")
    return StsRecord(id=record_id)
