"""Outcome rules on real replies from Gmail, Outlook, Yahoo and Postfix, and on failures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.queue.bounce import BounceClass, classify_bounce
from postillon.queue.outcome import (
    FailureFacts,
    FailureKind,
    Outcome,
    ReplyFacts,
    ReplyPhase,
    classify,
    classify_reply,
    is_try_later,
)
from postillon.queue.status import RecipientStatus

D, F, B = Outcome.DEFERRED, Outcome.DELIVERED, Outcome.BOUNCED
C = BounceClass

# fmt: off
REPLIES = [
    # --- delivered
    pytest.param(250, "2.0.0", "OK 1700000000 a1-20020a.123 - gsmtp", F, None, id="gmail-250"),
    pytest.param(250, None, "Ok: queued as 4Xk2", F, None, id="postfix-250-no-enhanced"),
    # --- Gmail
    pytest.param(
        550, "5.1.1",
        "The email account that you tried to reach does not exist. Please try double-checking "
        "the recipient's email address for typos or unnecessary spaces.",
        B, C.BAD_MAILBOX, id="gmail-550-5.1.1-no-such-account",
    ),
    pytest.param(
        552, "5.2.2", "The email account that you tried to reach is over quota.",
        B, C.MAILBOX_FULL, id="gmail-552-5.2.2-over-quota",
    ),
    pytest.param(
        452, "4.2.2", "The email account that you tried to reach is over quota.",
        D, C.MAILBOX_FULL, id="gmail-452-4.2.2-over-quota",
    ),
    pytest.param(
        552, "5.3.4", "Your message exceeded Google's message size limits.",
        B, C.MESSAGE_TOO_LARGE, id="gmail-552-5.3.4-too-large",
    ),
    pytest.param(
        550, "5.7.26",
        "This mail has been blocked because the sender is unauthenticated. Gmail requires all "
        "senders to authenticate with either SPF or DKIM.",
        B, C.POLICY, id="gmail-550-5.7.26-unauthenticated",
    ),
    pytest.param(
        421, "4.7.28",
        "Gmail has detected an unusual rate of unsolicited mail originating from your IP "
        "address.", D, C.POLICY, id="gmail-421-4.7.28-unsolicited-rate",
    ),
    pytest.param(
        550, "5.4.5", "Daily user sending limit exceeded.",
        D, C.RATE_LIMIT, id="gmail-550-5.4.5-sending-limit-is-deferred",
    ),
    pytest.param(
        450, "4.2.1",
        "The user you are trying to contact is receiving mail at a rate that prevents "
        "additional messages from being delivered.", D, C.RATE_LIMIT, id="gmail-450-4.2.1-rate",
    ),
    # --- Outlook / Microsoft 365
    pytest.param(
        550, "5.5.0", "Requested action not taken: mailbox unavailable (S2017062302).",
        B, C.BAD_MAILBOX, id="outlook-550-5.5.0-mailbox-unavailable",
    ),
    pytest.param(
        550, "5.4.1", "Recipient address rejected: Access denied. AS(201806281)",
        B, C.BAD_MAILBOX, id="m365-550-5.4.1-access-denied",
    ),
    pytest.param(
        550, "5.7.1",
        "Unfortunately, messages from [203.0.113.7] weren't sent. Please contact your Internet "
        "service provider since part of their network is on our block list (S3150).",
        B, C.POLICY, id="outlook-550-5.7.1-block-list",
    ),
    pytest.param(
        451, "4.7.500", "Server busy. Please try again later from [203.0.113.7]. (S77719)",
        D, C.RATE_LIMIT, id="outlook-451-4.7.500-server-busy",
    ),
    pytest.param(
        550, "5.7.606", "Access denied, banned sending IP [203.0.113.7].",
        B, C.POLICY, id="outlook-550-5.7.606-banned-ip",
    ),
    pytest.param(452, "4.5.3", "Too many recipients", D, C.RATE_LIMIT, id="m365-452-4.5.3"),
    # --- Yahoo
    pytest.param(
        554, None,
        "delivery error: dd This user doesn't have a yahoo.com account (gone@yahoo.com) [0] - "
        "mta1.mail.gq1.yahoo.com", B, C.BAD_MAILBOX, id="yahoo-554-no-account",
    ),
    pytest.param(
        554, "5.0.0",
        "delivery error: dd Sorry your message to x@yahoo.com cannot be delivered. This "
        "mailbox is disabled (554.30).", B, C.BAD_MAILBOX, id="yahoo-554-mailbox-disabled",
    ),
    pytest.param(
        421, "4.7.0",
        "[TSS04] Messages from 203.0.113.7 temporarily deferred due to unexpected volume or "
        "user complaints - 4.16.55.1", D, C.RATE_LIMIT, id="yahoo-421-TSS04",
    ),
    pytest.param(
        553, "5.7.2",
        "[TSS09] All messages from 203.0.113.7 will be permanently deferred; Retrying will NOT "
        "succeed.", B, C.POLICY, id="yahoo-553-TSS09-permanent",
    ),
    # --- Postfix
    pytest.param(
        550, "5.1.1",
        "<nobody@example.test>: Recipient address rejected: User unknown in local recipient "
        "table", B, C.BAD_MAILBOX, id="postfix-550-user-unknown",
    ),
    pytest.param(
        554, "5.7.1", "<x@example.test>: Relay access denied",
        B, C.POLICY, id="postfix-554-relay-denied",
    ),
    pytest.param(
        552, "5.3.4", "Message size exceeds fixed limit",
        B, C.MESSAGE_TOO_LARGE, id="postfix-552-size",
    ),
    pytest.param(
        554, "5.7.1",
        "Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org",
        B, C.POLICY, id="postfix-554-spamhaus",
    ),
    pytest.param(
        550, "5.7.1", "Message rejected: sender rate limited",
        D, C.RATE_LIMIT, id="postfix-550-5.7.1-rate-limited",
    ),
    pytest.param(
        550, "5.7.1", "<x@example.test>: Recipient address rejected: too many connections",
        D, C.RATE_LIMIT, id="550-5.7.1-too-many-connections",
    ),
    pytest.param(552, "5.2.2", "mailbox full", B, C.MAILBOX_FULL, id="552-5.2.2-mailbox-full"),
    pytest.param(552, None, "Too many recipients", D, C.RATE_LIMIT, id="552-too-many-rcpts"),
    pytest.param(552, "5.5.3", "Recipients buffer full", D, C.RATE_LIMIT, id="552-5.5.3"),
    pytest.param(
        450, "4.1.8", "<b@sender.test>: Sender address rejected: Domain not found",
        D, C.BAD_DOMAIN, id="postfix-450-4.1.8-sender-domain",
    ),
    pytest.param(554, "5.4.6", "Too many hops", B, C.OTHER, id="554-5.4.6-loop"),
    pytest.param(
        451, "4.7.1", "Greylisting in action, please come back later",
        D, C.POLICY, id="greylisting",
    ),
    # --- no enhanced code
    pytest.param(550, None, "No such user here", B, C.BAD_MAILBOX, id="550-no-such-user"),
    pytest.param(554, None, "Message rejected as spam", B, C.POLICY, id="554-spam"),
    pytest.param(500, None, "Syntax error, command unrecognized", B, C.OTHER, id="500-other"),
    pytest.param(421, None, "Service not available, closing channel", D, C.OTHER, id="421"),
]
# fmt: on


@pytest.mark.parametrize(("code", "enhanced", "text", "outcome", "bounce_class"), REPLIES)
def test_reply_classification(
    code: int, enhanced: str | None, text: str, outcome: Outcome, bounce_class: BounceClass | None
) -> None:
    verdict = classify_reply(ReplyFacts(code, enhanced, text))

    assert (verdict.outcome, verdict.bounce_class) == (outcome, bounce_class)
    assert verdict.possible_duplicate is False


@pytest.mark.parametrize(
    ("code", "text"),
    [
        pytest.param(554, "No SMTP service here", id="554-greeting"),
        pytest.param(421, "Too busy, try later", id="421-greeting"),
        pytest.param(550, "Access denied", id="550-greeting"),
    ],
)
def test_a_refused_greeting_means_try_the_next_mx(code: int, text: str) -> None:
    verdict = classify_reply(ReplyFacts(code, None, text, ReplyPhase.GREETING))

    assert verdict.outcome is Outcome.TRY_NEXT_MX
    assert verdict.outcome.status is RecipientStatus.DEFERRED
    assert not verdict.suppresses


# fmt: off
FAILURES = [
    pytest.param(
        FailureFacts(FailureKind.DNS, False, "NXDOMAIN", 550, "5.1.2"),
        B, C.BAD_DOMAIN, id="nxdomain",
    ),
    pytest.param(
        FailureFacts(FailureKind.DNS, False, "null MX", 556, "5.1.10"),
        B, C.BAD_DOMAIN, id="null-mx",
    ),
    pytest.param(
        FailureFacts(FailureKind.DNS, False, "no mail host"), B, C.BAD_DOMAIN, id="dns-perm"
    ),
    pytest.param(
        FailureFacts(FailureKind.DNS, True, "SERVFAIL", 451, "4.4.3"),
        D, C.OTHER, id="servfail",
    ),
    pytest.param(
        FailureFacts(FailureKind.DNS, False, "MX is us", 554, "5.4.6"),
        B, C.OTHER, id="mx-loop",
    ),
    pytest.param(
        FailureFacts(FailureKind.CONNECT, True, "Connection refused"),
        Outcome.TRY_NEXT_MX, C.OTHER, id="connection-refused",
    ),
    pytest.param(
        FailureFacts(FailureKind.TLS, True, "certificate verify failed"),
        Outcome.TRY_NEXT_MX, C.OTHER, id="tls-failed",
    ),
    pytest.param(
        FailureFacts(FailureKind.POLICY, True, "no MX matches MTA-STS", 451, "4.7.5"),
        D, C.POLICY, id="mta-sts-enforce",
    ),
    pytest.param(
        FailureFacts(FailureKind.PROTOCOL, True, "timed out waiting for RCPT"),
        D, C.OTHER, id="timeout",
    ),
    pytest.param(
        FailureFacts(FailureKind.MESSAGE, False, "message exceeds SIZE 1000", 552, "5.3.4"),
        B, C.MESSAGE_TOO_LARGE, id="size-over-ehlo-limit",
    ),
]
# fmt: on


@pytest.mark.parametrize(("facts", "outcome", "bounce_class"), FAILURES)
def test_failure_classification(
    facts: FailureFacts, outcome: Outcome, bounce_class: BounceClass
) -> None:
    verdict = classify(facts)

    assert (verdict.outcome, verdict.bounce_class) == (outcome, bounce_class)


def test_no_reply_to_the_final_dot_is_deferred_and_a_possible_duplicate() -> None:
    verdict = classify(FailureFacts(FailureKind.NO_FINAL_REPLY, True, "no reply in 600s"))

    assert verdict.outcome is Outcome.DEFERRED
    assert verdict.possible_duplicate is True


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "suppresses"),
    [
        pytest.param(550, "5.1.1", "user unknown", True, id="bad-mailbox"),
        pytest.param(550, "5.1.2", "bad domain", True, id="bad-domain"),
        pytest.param(552, "5.2.2", "mailbox full", False, id="mailbox-full"),
        pytest.param(554, "5.7.1", "spam", False, id="policy"),
        pytest.param(450, "4.1.1", "user unknown (try later)", False, id="deferred-never"),
    ],
)
def test_only_dead_addresses_are_suppressed(
    code: int, enhanced: str, text: str, suppresses: bool
) -> None:
    assert classify_reply(ReplyFacts(code, enhanced, text)).suppresses is suppresses


def test_try_later_is_only_for_limits() -> None:
    assert is_try_later(452, "4.5.3", "Too many recipients")
    assert is_try_later(550, "5.7.1", "rate limit exceeded")
    assert not is_try_later(550, "5.1.1", "user unknown")


@pytest.mark.parametrize(
    "code", [pytest.param(199, id="1xx"), pytest.param(354, id="354"), pytest.param(600, id="600")]
)
def test_codes_that_are_not_outcomes_are_refused(code: int) -> None:
    with pytest.raises(ValueError, match="reply"):
        classify_reply(ReplyFacts(code, None, "x"))


@given(
    code=st.integers(min_value=200, max_value=599).filter(lambda c: c // 100 != 3),
    enhanced=st.one_of(st.none(), st.from_regex(r"\A[245]\.[0-9]{1,3}\.[0-9]{1,3}\Z")),
    text=st.text(max_size=200),
)
def test_every_reply_gets_a_verdict_that_follows_its_class(
    code: int, enhanced: str | None, text: str
) -> None:
    verdict = classify_reply(ReplyFacts(code, enhanced, text))

    expected = {2: {F}, 4: {D}, 5: {B, D}}[code // 100]
    assert verdict.outcome in expected
    assert (verdict.bounce_class is None) == (verdict.outcome is F)
    assert classify_bounce(enhanced, text) in BounceClass
