"""Bounce classification: why a recipient failed, from the enhanced code first and the text second.

Owns the mapping of RFC 3463 enhanced status codes (``class.subject.detail``) and of the reply
texts big receivers actually send (Gmail, Outlook, Yahoo, Postfix) onto a small set of classes a
customer can act on. The enhanced code decides when it is specific; the text refines the codes
that say little (``X.0.0``, ``X.7.0``, ``X.7.1``: "policy" covers both spam blocks and rate
limits) or stands alone when the server sent no enhanced code.
It must not decide delivered / deferred / bounced (see :mod:`.outcome`), nor do I/O.
"""

from __future__ import annotations

import re
from enum import StrEnum


class BounceClass(StrEnum):
    """Why a recipient was (or would have been) refused."""

    BAD_MAILBOX = "bad_mailbox"  # no such user, mailbox disabled
    BAD_DOMAIN = "bad_domain"  # no such domain, no mail host, null MX
    MAILBOX_FULL = "mailbox_full"  # over quota
    MESSAGE_TOO_LARGE = "message_too_large"
    POLICY = "policy"  # spam, blocklists, authentication (SPF/DKIM/DMARC), reputation
    RATE_LIMIT = "rate_limit"  # too many / too fast: worth trying later, even after a 5xx
    OTHER = "other"

    @property
    def suppresses(self) -> bool:
        """True when a hard bounce of this class says the address itself is dead.

        Only these put the address on the account's suppression list: a full mailbox, a
        too-large message or a spam block say nothing about later mail to the address.
        """
        return self in (BounceClass.BAD_MAILBOX, BounceClass.BAD_DOMAIN)


# RFC 3463 §3: subject.detail (the class digit is left out, the meaning is the same for 4 and 5).
_BY_SUBJECT_DETAIL: dict[str, BounceClass] = {
    "1.1": BounceClass.BAD_MAILBOX,  # bad destination mailbox address
    "1.2": BounceClass.BAD_DOMAIN,  # bad destination system address
    "1.3": BounceClass.BAD_MAILBOX,  # bad destination mailbox address syntax
    "1.4": BounceClass.BAD_MAILBOX,  # destination mailbox address ambiguous
    "1.6": BounceClass.BAD_MAILBOX,  # destination mailbox has moved, no forwarding address
    "1.10": BounceClass.BAD_DOMAIN,  # RFC 7505 §4.3: recipient address has null MX
    "2.1": BounceClass.BAD_MAILBOX,  # mailbox disabled, not accepting messages
    "2.2": BounceClass.MAILBOX_FULL,  # mailbox full
    "2.3": BounceClass.MESSAGE_TOO_LARGE,  # message length exceeds administrative limit
    "3.4": BounceClass.MESSAGE_TOO_LARGE,  # message too big for system
    "4.4": BounceClass.BAD_DOMAIN,  # unable to route (no MX and no address)
    "4.5": BounceClass.RATE_LIMIT,  # mail system congestion (Gmail: daily sending limit)
    "5.3": BounceClass.RATE_LIMIT,  # too many recipients
    "7.26": BounceClass.POLICY,  # RFC 7372: multiple authentication checks failed
    "7.27": BounceClass.BAD_DOMAIN,  # RFC 7505: sender address has null MX
}

# Codes too vague to trust alone: the reply text decides, the code's own class is the fallback.
_REFINABLE = frozenset({"0.0", "7.0", "7.1", "2.0", "1.0", "3.0", "4.0", "5.0"})

# Texts, checked in this order (the first match wins). Rate limits come first: "550 5.7.1 too
# many messages" is a reason to wait, not a block.
_TEXT_RULES: tuple[tuple[BounceClass, re.Pattern[str]], ...] = (
    (
        BounceClass.RATE_LIMIT,
        re.compile(
            r"rate.?limit|too many (?:connections|messages|mails?|emails|recipients|requests|"
            r"concurrent|sessions)|too fast|throttl|try (?:again )?later|frequency|"
            r"sending (?:limit|quota)|unexpected volume|receiving mail at a rate|server busy|"
            r"temporarily (?:deferred|rejected|"
            r"blocked|unavailable)|exceeded the (?:rate|limit)",
            re.IGNORECASE,
        ),
    ),
    (
        BounceClass.MAILBOX_FULL,
        re.compile(
            r"mailbox (?:is )?full|over ?quota|quota exceeded|exceeded (?:its |the )?(?:storage|"
            r"quota)|insufficient (?:storage|space)|mailbox size limit|out of storage",
            re.IGNORECASE,
        ),
    ),
    (
        BounceClass.MESSAGE_TOO_LARGE,
        re.compile(
            r"too (?:large|big)|message size|size limit|exceeds (?:the )?(?:maximum )?"
            r"(?:message )?size",
            re.IGNORECASE,
        ),
    ),
    (
        BounceClass.BAD_MAILBOX,
        re.compile(
            r"user unknown|unknown user|no such (?:user|mailbox|recipient)|does not exist|"
            r"doesn'?t exist|mailbox (?:is )?(?:unavailable|not found|disabled)|"
            r"invalid (?:recipient|mailbox)|unknown recipient|recipient not found|user not found|"
            r"doesn'?t have an? .* account|account (?:has been |is )?disabled|no mailbox|"
            r"undeliverable address|not our customer|recipient address rejected: access denied",
            re.IGNORECASE,
        ),
    ),
    (
        BounceClass.BAD_DOMAIN,
        re.compile(
            r"domain not found|no such domain|unrouteable|unroutable|host not found|"
            r"domain (?:does not|doesn'?t) exist|null mx|no mx",
            re.IGNORECASE,
        ),
    ),
    (
        BounceClass.POLICY,
        re.compile(
            r"spam|block(?:ed|list)|blacklist|spamhaus|\brbl\b|dnsbl|policy|reputation|"
            r"dmarc|\bspf\b|dkim|authenticat|not authori[sz]ed|junk|abuse|"
            r"relay(?:ing)? (?:access )?denied|refused|rejected for",
            re.IGNORECASE,
        ),
    ),
)


def _subject_detail(enhanced: str | None) -> str | None:
    if enhanced is None:
        return None
    parts = enhanced.strip().split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    return f"{int(parts[1])}.{int(parts[2])}"


def classify_text(text: str) -> BounceClass | None:
    """The class the reply text names, or None when it names none."""
    for bounce_class, pattern in _TEXT_RULES:
        if pattern.search(text):
            return bounce_class
    return None


def classify_bounce(enhanced: str | None, text: str) -> BounceClass:
    """Classify a failure from its RFC 3463 enhanced code (may be None) and its reply text.

    A text that names a rate limit wins over any code but an address one (the X.1.Y codes say
    the address itself is wrong). Otherwise a specific enhanced code decides; a vague one
    (``X.0.0``, ``X.7.1`` ...) or none lets the text decide; if the text names nothing, an
    ``X.7.Y`` code still means POLICY, anything else OTHER.
    """
    subject_detail = _subject_detail(enhanced)
    from_text = classify_text(text)
    is_address_code = subject_detail is not None and subject_detail.startswith("1.")
    if from_text is BounceClass.RATE_LIMIT and not is_address_code:
        return BounceClass.RATE_LIMIT
    if subject_detail is not None and subject_detail not in _REFINABLE:
        known = _BY_SUBJECT_DETAIL.get(subject_detail)
        if known is not None:
            return known
        if subject_detail.startswith("7."):
            # Any other X.7.Y (RFC 3463 §3.8 security or policy status) is a block.
            return BounceClass.POLICY
    if from_text is not None:
        return from_text
    if subject_detail is not None and subject_detail.startswith("7."):
        return BounceClass.POLICY
    return BounceClass.OTHER
