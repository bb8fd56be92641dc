"""The decision for one recipient after one attempt: verdict plus schedule, in one pure step.

Owns the last rule between "what the reply means" (:mod:`.outcome`) and "what the store
records": a deferral gets its next attempt time from :mod:`.retry`, or becomes EXPIRED once the
message outlived the queue lifetime (reported like a bounce); a hard bounce of a dead address
asks for suppression. The delivery engine turns a :class:`Decision` into a store outcome.
It must not do I/O or read the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from postillon.config.settings import RetrySettings
from postillon.queue.bounce import BounceClass
from postillon.queue.outcome import Outcome, Verdict
from postillon.queue.retry import Random, next_attempt
from postillon.queue.status import RecipientStatus


@dataclass(frozen=True)
class Decision:
    """The status to record, when to try again (DEFERRED only), and the verdict's details."""

    status: RecipientStatus
    next_attempt_at: datetime | None
    bounce_class: BounceClass | None
    possible_duplicate: bool
    suppress: bool


def decide(
    verdict: Verdict,
    *,
    created_at: datetime,
    attempts: int,
    now: datetime,
    settings: RetrySettings,
    random: Random,
) -> Decision:
    """Decide after the ``attempts``-th attempt (this one included) of a message made at
    ``created_at``. TRY_NEXT_MX reaching here means no MX was left: it is a deferral."""
    if verdict.outcome in (Outcome.DEFERRED, Outcome.TRY_NEXT_MX):
        retry = next_attempt(
            created_at=created_at, attempts=attempts, now=now, settings=settings, random=random
        )
        status = RecipientStatus.EXPIRED if retry.is_expired else RecipientStatus.DEFERRED
        return Decision(
            status=status,
            next_attempt_at=retry.next_attempt_at,
            bounce_class=verdict.bounce_class,
            possible_duplicate=verdict.possible_duplicate,
            suppress=False,
        )
    return Decision(
        status=verdict.outcome.status,
        next_attempt_at=None,
        bounce_class=verdict.bounce_class,
        possible_duplicate=verdict.possible_duplicate,
        suppress=verdict.suppresses,
    )
