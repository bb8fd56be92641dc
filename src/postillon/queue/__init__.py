"""Pure queue rules: recipient status model, retry schedule, reply-to-outcome classification.

Nothing here does I/O or reads the clock; the store and the delivery engine apply these rules.
"""

from postillon.queue.bounce import BounceClass, classify_bounce
from postillon.queue.decision import Decision, decide
from postillon.queue.outcome import (
    FailureFacts,
    FailureKind,
    Outcome,
    ReplyFacts,
    ReplyPhase,
    Verdict,
    classify,
    classify_failure,
    classify_reply,
    is_try_later,
)
from postillon.queue.retry import RetryDecision, backoff_s, next_attempt
from postillon.queue.status import ACTIVE_STATUSES, RecipientStatus, can_transition

__all__ = [
    "ACTIVE_STATUSES",
    "BounceClass",
    "Decision",
    "FailureFacts",
    "FailureKind",
    "Outcome",
    "RecipientStatus",
    "ReplyFacts",
    "ReplyPhase",
    "RetryDecision",
    "Verdict",
    "backoff_s",
    "can_transition",
    "classify",
    "classify_bounce",
    "classify_failure",
    "classify_reply",
    "decide",
    "is_try_later",
    "next_attempt",
]
