"""DKIM signing throughput on one core: postillon's signer vs dkimpy, for a 4 KiB message.

    .venv/bin/python bench/dkim_sign.py [--seconds 2] [--size 4096]

Each signer's output is verified once with dkimpy before timing. Each timed run is bounded by
--seconds and by MAX_CALLS; the median of 3 runs is printed. Not a test: asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import cryptography
import dkim

from postillon.clock import FakeClock
from postillon.dkim import DkimSigner, generate_ed25519_key, generate_rsa_key, sign_message

DOMAIN = "bench.example"
# Bounds every timed loop, whatever the machine's speed.
MAX_CALLS = 200_000
RUNS = 3


def make_message(size: int) -> bytes:
    head = (
        b"From: Sender <sender@bench.example>\r\n"
        b"To: Recipient <rcpt@sink.example>\r\n"
        b"Subject: benchmark message\r\n"
        b"Date: Sun, 29 Nov 2026 04:00:00 +0000\r\n"
        b"Message-ID: <bench-1@bench.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n"
        b"\r\n"
    )
    line = b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop\r\n"
    body = (line * (size // len(line) + 1))[:size]
    return head + body[: body.rfind(b"\r\n") + 2]


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Median calls per second over RUNS bounded runs."""
    results = []
    for _ in range(RUNS):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds
        while n < MAX_CALLS and (n % 4 or time.perf_counter() < deadline):
            fn()
            n += 1
        results.append(n / (time.perf_counter() - start))
    return statistics.median(results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each timed run")
    ap.add_argument("--size", type=int, default=4096, help="body size in octets")
    args = ap.parse_args()

    rsa_key, ed_key = generate_rsa_key(), generate_ed25519_key()
    clock = FakeClock(datetime.now(UTC))
    ours_rsa = DkimSigner(DOMAIN, "rsa", rsa_key, clock)
    ours_ed = DkimSigner(DOMAIN, "ed", ed_key, clock)
    msg = make_message(args.size)
    pem = rsa_key.private_pem()
    headers = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]
    records = {
        b"rsa._domainkey.bench.example.": rsa_key.txt_record().encode(),
        b"ed._domainkey.bench.example.": ed_key.txt_record().encode(),
    }

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return records[name]

    def dkimpy_sign() -> bytes:
        return dkim.sign(  # type: ignore[no-any-return]
            msg,
            b"rsa",
            DOMAIN.encode(),
            pem,
            include_headers=headers,
            canonicalize=(b"relaxed", b"relaxed"),
        )

    for label, signed in (
        ("postillon rsa", sign_message(msg, [ours_rsa])),
        ("postillon ed25519", sign_message(msg, [ours_ed])),
        ("dkimpy rsa", dkimpy_sign() + msg),
    ):
        if not dkim.verify(signed, dnsfunc=dns):
            sys.exit(f"{label}: signature does not verify")

    print(
        f"python {sys.version.split()[0]}, cryptography {cryptography.__version__}, "
        f"message {len(msg)} octets, {args.seconds:g}s x {RUNS} runs, median, 1 thread"
    )
    ours = rate(lambda: ours_rsa.signature_field(msg), args.seconds)
    print(f"postillon rsa-sha256 2048:       {ours:8.0f} signatures/s ({1e3 / ours:.3f} ms)")
    ed = rate(lambda: ours_ed.signature_field(msg), args.seconds)
    print(f"postillon ed25519-sha256:        {ed:8.0f} signatures/s ({1e3 / ed:.3f} ms)")
    both = rate(lambda: sign_message(msg, [ours_rsa, ours_ed]), args.seconds)
    print(f"postillon rsa + ed25519 message: {both:8.0f} messages/s ({1e3 / both:.3f} ms)")
    theirs = rate(dkimpy_sign, args.seconds)
    print(f"dkimpy rsa-sha256 2048:          {theirs:8.0f} signatures/s ({1e3 / theirs:.3f} ms)")
    print(f"FIGURE postillon/dkimpy rsa-sha256 signing: x{ours / theirs:.1f} on one core")


if __name__ == "__main__":
    main()
