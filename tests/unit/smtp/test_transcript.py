"""The transcript: ordered, rendered one entry per line, bounded against hostile sessions."""

from __future__ import annotations

from postillon.smtp.transcript import MAX_TRANSCRIPT_ENTRIES, Direction, Transcript


def test_renders_entries_in_order() -> None:
    transcript = Transcript()
    transcript.add(Direction.SERVER, "220 mx.test")
    transcript.add(Direction.CLIENT, "EHLO client.test")
    transcript.add(Direction.NOTE, "TLS: TLSv1.3")
    assert transcript.render() == "S: 220 mx.test\nC: EHLO client.test\n-: TLS: TLSv1.3"


def test_stops_growing_past_its_bound_and_says_so() -> None:
    transcript = Transcript()
    for n in range(MAX_TRANSCRIPT_ENTRIES + 5):
        transcript.add(Direction.SERVER, f"250-line {n}")
    assert len(transcript.entries) == MAX_TRANSCRIPT_ENTRIES
    assert transcript.dropped == 5
    assert transcript.render().endswith("(5 more entries dropped)")
