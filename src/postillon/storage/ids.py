"""Sortable ids: 48 bits of milliseconds then 80 random bits, in Crockford base32 (ULID layout).

Ids sort by creation time as text, in every database, so the newest-first listing and its
cursor need no second column. Time and randomness are injected.
It must not read the clock itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_TIME_BITS = 48  # milliseconds until the year 10889
_RANDOM_BYTES = 10  # 80 bits: collisions within one millisecond are not a concern
ID_LENGTH = 26  # 130 bits / 5 bits per character, rounded up

RandomBytes = Callable[[int], bytes]


def new_id(now: datetime, random_bytes: RandomBytes = secrets.token_bytes) -> str:
    """A 26-character id that sorts after every id made at an earlier millisecond."""
    millis = int(now.timestamp() * 1000)
    if not 0 <= millis < 1 << _TIME_BITS:
        raise ValueError(f"{now!r} is outside the id time range")
    value = (millis << (_RANDOM_BYTES * 8)) | int.from_bytes(random_bytes(_RANDOM_BYTES), "big")
    chars = []
    for _ in range(ID_LENGTH):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
