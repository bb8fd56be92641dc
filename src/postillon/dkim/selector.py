"""Dated selector names for new DKIM keys.

Format: ``pst`` + the UTC date as YYYYMMDD + ``-`` + 8 lowercase base32 characters (40 random
bits), e.g. ``pst20261129-k3x9qdma``. The date tells an operator a key's age at a glance (what
rotation needs); the random part lets a domain rotate twice on one day without a clash, and
keeps selectors unguessable. 20 characters: one DNS label (RFC 6376 §3.1, at most 63).
Pure: the date and the random bytes are passed in.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date

SELECTOR_PREFIX = "pst"
# 5 bytes are exactly 8 base32 characters, no padding; 40 bits make a same-day clash for one
# domain vanishingly unlikely.
SELECTOR_RANDOM_BYTES = 5


def dated_selector(today: date, random_bytes: Callable[[int], bytes]) -> str:
    """A new selector for a key created on ``today``; ``random_bytes`` is e.g. ``os.urandom``."""
    suffix = base64.b32encode(random_bytes(SELECTOR_RANDOM_BYTES)).decode("ascii").lower()
    return f"{SELECTOR_PREFIX}{today:%Y%m%d}-{suffix}"
