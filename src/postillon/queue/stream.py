"""Message streams: transactional and broadcast mail, and the order a claim serves them in.

Owns the stream names (the public contract of ``"stream"`` on ``POST /v1/emails``) and each
stream's rank: within one account, a claim takes every due recipient of a lower rank before any
of a higher one, so a password reset never waits behind the account's own newsletter (Postmark's
message streams). Across accounts the claim takes turns (storage/claims.py).
It must not do I/O.
"""

from __future__ import annotations

from enum import StrEnum


class Stream(StrEnum):
    """The kind of mail a message is."""

    TRANSACTIONAL = "transactional"  # one message a person waits for: resets, receipts, codes
    BROADCAST = "broadcast"  # newsletters and campaigns: may wait behind transactional mail

    @property
    def rank(self) -> int:
        """The claim order within an account: 0 goes first."""
        return _RANKS[self]


DEFAULT_STREAM = Stream.TRANSACTIONAL
_RANKS = {Stream.TRANSACTIONAL: 0, Stream.BROADCAST: 1}
# Every rank, in claim order (a claim asks the store once per rank and account).
RANKS = tuple(sorted(_RANKS.values()))
