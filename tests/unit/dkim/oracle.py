"""dkimpy as the verifying oracle, with a DNS function that serves our own TXT records."""

from __future__ import annotations

import dkim

from postillon.dkim.keys import SigningKey, record_name


def dkimpy_verify(message: bytes, keys: dict[str, SigningKey], domain: str) -> list[bool]:
    """dkimpy's verdict on every DKIM-Signature of ``message``, top first; ``keys`` maps
    selectors to keys whose TXT records the fake DNS serves."""
    records = {
        (record_name(sel, domain) + ".").encode(): key.txt_record().encode()
        for sel, key in keys.items()
    }

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return records.get(name, b"")

    checker = dkim.DKIM(message)
    count = message.split(b"\r\n\r\n", 1)[0].lower().count(b"\ndkim-signature:") + int(
        message.lower().startswith(b"dkim-signature:")
    )
    verdicts = []
    for i in range(count):
        try:
            verdicts.append(bool(checker.verify(idx=i, dnsfunc=dnsfunc)))
        except dkim.DKIMException:  # dkimpy raises for a body hash mismatch, returns False else
            verdicts.append(False)
    return verdicts
