"""Turn an attempt's facts into what the store records: status, next try, attempt row.

The meaning of a reply or failure, the next attempt time and expiry all come from queue/ (one
place for the rules: outcome.py, decision.py, retry.py). This module only translates between
the engine's facts and the store's records. It must not do I/O.
"""

from __future__ import annotations

from datetime import datetime

from postillon.config.settings import RetrySettings
from postillon.delivery.job import FactKind, RecipientFacts
from postillon.queue.decision import decide as decide_after_attempt
from postillon.queue.outcome import FailureFacts, FailureKind, ReplyFacts, ReplyPhase, classify
from postillon.queue.retry import Random
from postillon.queue.status import RecipientStatus
from postillon.storage.records import AttemptRecord, RecipientOutcome


def decide(
    facts: RecipientFacts,
    *,
    previous_attempts: int,
    created_at: datetime,
    started_at: datetime,
    now: datetime,
    retry: RetrySettings,
    random: Random,
) -> RecipientOutcome:
    """The store record for one recipient's attempt (the rules are queue/'s)."""
    decision = decide_after_attempt(
        classify(_queue_facts(facts)),
        created_at=created_at,
        attempts=previous_attempts + 1,
        now=now,
        settings=retry,
        random=random,
    )
    return RecipientOutcome(
        recipient_id=facts.recipient.recipient_id,
        status=decision.status,
        attempt=attempt_record(facts, started_at),
        next_attempt_at=decision.next_attempt_at,
        bounce_class=decision.bounce_class,
        possible_duplicate=decision.possible_duplicate or facts.possible_duplicate,
        suppress=decision.suppress,
        complained=facts.complained and decision.status is RecipientStatus.DELIVERED,
    )


def attempt_record(facts: RecipientFacts, started_at: datetime) -> AttemptRecord:
    """The attempt-log row: the reply, the MX, the TLS and the MTA-STS mode that applied."""
    hop = facts.hop
    tls = hop.tls
    reason = tls.reason if tls else None
    if hop.tls_policy_violation:
        reason = f"{reason}; {hop.tls_policy_violation}" if reason else hop.tls_policy_violation
    return AttemptRecord(
        started_at=started_at,
        duration_ms=facts.duration_ms,
        reply_code=facts.code,
        enhanced_code=facts.enhanced,
        reply_text=facts.text,
        mx_host=hop.mx_host,
        ip=hop.ip,
        tls_used=bool(tls and tls.used),
        tls_version=tls.version if tls else None,
        tls_cipher=tls.cipher if tls else None,
        tls_verified=tls.verified if tls else None,
        tls_reason=reason,
        mta_sts_mode=hop.mta_sts_mode,
        mta_sts_policy_id=hop.mta_sts_policy_id,
        transcript=hop.transcript or None,
        tls_policy=hop.tls_policy,
        dane_tlsa=hop.dane_tlsa,
        tls_refusal=hop.tls_refusal,
        tls_result=hop.tls_result,
    )


def _queue_facts(facts: RecipientFacts) -> ReplyFacts | FailureFacts:
    if facts.kind is FactKind.REPLY and facts.code is not None:
        return ReplyFacts(facts.code, facts.enhanced, facts.text, ReplyPhase.TRANSACTION)
    return FailureFacts(
        kind=FailureKind(facts.kind.value),
        is_transient=facts.is_transient,
        text=facts.text,
        code=facts.code,
        enhanced=facts.enhanced,
    )
