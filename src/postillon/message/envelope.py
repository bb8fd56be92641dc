"""The envelope recipients of a message (RFC 5321 §3.3 RCPT TO), from To, Cc and Bcc.

Owns deduplication: two addresses are the same recipient when their local parts are equal
(RFC 5321 §2.4: a local part is case-sensitive; only its host may interpret it) and their
domains are equal ignoring case (domains are stored lower-case A-labels, so plain equality).
Must not choose the envelope sender: the return-path domain is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Iterable

from postillon.message.address import Address


def rcpt_to(*lists: Iterable[Address]) -> tuple[str, ...]:
    """The addr-specs of every address in ``lists``, first occurrence kept, duplicates dropped."""
    seen: set[tuple[str, str]] = set()
    out: list[str] = []
    for addresses in lists:
        for address in addresses:
            if address.envelope_key not in seen:
                seen.add(address.envelope_key)
                out.append(address.addr_spec)
    return tuple(out)
