"""SMTP TLS Reporting (RFC 8460): result types, the ``_smtp._tls`` record, policy strings.

Owns: the result types of RFC 8460 §4.3 and how a transport failure's words map onto them,
parsing the TXT record ``v=TLSRPTv1; rua=...`` (§3) into its report URIs, and the policy strings
a report carries for an MTA-STS policy (§4.4: the policy file's lines) or a TLSA RRset (the
records in presentation form). Pure: it must not look anything up, count or send.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from urllib.parse import urlsplit

from postillon.policy.model import MtaStsPolicy

# RFC 8460 §3: the record lives at _smtp._tls.<policy domain> and starts with this version.
RECORD_PREFIX = "_smtp._tls."
VERSION_TAG = "v=TLSRPTv1"
# Report URIs we can deliver to (§3: "mailto" and "https").
SCHEMES = ("mailto", "https")


class PolicyType(enum.StrEnum):
    """RFC 8460 §4.4 policy-type."""

    STS = "sts"
    TLSA = "tlsa"
    NO_POLICY = "no-policy-found"


class ResultType(enum.StrEnum):
    """RFC 8460 §4.3 result types (negotiation, policy and general failures)."""

    STARTTLS_NOT_SUPPORTED = "starttls-not-supported"
    CERTIFICATE_HOST_MISMATCH = "certificate-host-mismatch"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CERTIFICATE_NOT_TRUSTED = "certificate-not-trusted"
    VALIDATION_FAILURE = "validation-failure"
    TLSA_INVALID = "tlsa-invalid"
    DNSSEC_INVALID = "dnssec-invalid"
    DANE_REQUIRED = "dane-required"
    STS_POLICY_FETCH_ERROR = "sts-policy-fetch-error"
    STS_POLICY_INVALID = "sts-policy-invalid"
    STS_WEBPKI_INVALID = "sts-webpki-invalid"


def certificate_result(reason: str | None) -> ResultType:
    """The result type for a certificate that did not verify, from the verifier's words
    (OpenSSL's or ``cryptography``'s)."""
    text = (reason or "").lower()
    if "expired" in text or "not yet valid" in text:
        return ResultType.CERTIFICATE_EXPIRED
    if "mismatch" in text or ("match" in text and "name" in text):
        return ResultType.CERTIFICATE_HOST_MISMATCH
    if "issuer" in text or "self-signed" in text or "self signed" in text or "trust" in text:
        return ResultType.CERTIFICATE_NOT_TRUSTED
    return ResultType.VALIDATION_FAILURE


def parse_record(texts: Iterable[str]) -> tuple[str, ...]:
    """The ``rua`` URIs of the one TLSRPTv1 record among ``texts`` (§3), those we can use.

    No record, or more than one, means no reporting (as §3 says of several records).
    """
    records = [t for t in texts if t.strip().startswith(VERSION_TAG)]
    if len(records) != 1:
        return ()
    for field in records[0].split(";")[1:]:
        key, sep, value = field.strip().partition("=")
        if sep and key.strip().lower() == "rua":
            uris = (uri.strip() for uri in value.split(","))
            return tuple(u for u in uris if urlsplit(u).scheme.lower() in SCHEMES)
    return ()


def sts_policy_strings(policy: MtaStsPolicy) -> tuple[str, ...]:
    """The policy file's lines (§4.4 policy-string for "sts")."""
    return (
        "version: STSv1",
        f"mode: {policy.mode.value}",
        *(f"mx: {pattern}" for pattern in policy.mx),
        f"max_age: {policy.max_age_s}",
    )
