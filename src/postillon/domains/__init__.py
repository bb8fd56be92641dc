"""Sender domains: the DNS records a customer publishes for DKIM, SPF and DMARC, and checking
them through DNS.

Modules, pure first:

- ``errors``: InvalidDomainError, NoSourceAddressesError.
- ``names``: normalize_domain, the return-path subdomain ``pstbounces.<domain>`` and the
  VERP envelope sender ``bounces+<message id>@pstbounces.<domain>`` (bounce_address).
- ``return_path``: the keyed return-path tag, ``bounces+<id>-<tag>@pstbounces.<domain>``
  (tagged_bounce_address, read_return_path; untagged addresses of older messages read back).
- ``tags``: RFC 6376 §3.2 tag-lists (DKIM key records, DMARC records).
- ``records``: required_records -> DnsRecordSpec (DKIM TXT, SPF TXT, return-path MX, DMARC).
- ``lookup``: DnsLookup, the protocol the checks use (postillon.dns.Resolver satisfies it).
- ``spf_check``: check_host, RFC 7208 evaluation without macros.
- ``verify``: verify_domain -> DomainCheck of RecordCheck, record by record.

Storage, keys at rest and the HTTP API live elsewhere; this package keeps no state.
"""

from postillon.domains.errors import InvalidDomainError, NoSourceAddressesError
from postillon.domains.lookup import DnsLookup
from postillon.domains.names import (
    RETURN_PATH_LABEL,
    bounce_address,
    normalize_domain,
    parse_bounce_address,
    return_path_domain,
)
from postillon.domains.records import (
    DnsRecordSpec,
    RecordKind,
    RecordPurpose,
    required_records,
    spf_value,
)
from postillon.domains.return_path import (
    ReturnPath,
    TagKey,
    read_return_path,
    tagged_bounce_address,
)
from postillon.domains.spf_check import SpfResult, SpfVerdict, check_host
from postillon.domains.verify import CheckStatus, DomainCheck, RecordCheck, verify_domain

__all__ = [
    "RETURN_PATH_LABEL",
    "CheckStatus",
    "DnsLookup",
    "DnsRecordSpec",
    "DomainCheck",
    "InvalidDomainError",
    "NoSourceAddressesError",
    "RecordCheck",
    "RecordKind",
    "RecordPurpose",
    "ReturnPath",
    "SpfResult",
    "SpfVerdict",
    "TagKey",
    "bounce_address",
    "check_host",
    "normalize_domain",
    "parse_bounce_address",
    "read_return_path",
    "required_records",
    "return_path_domain",
    "spf_value",
    "tagged_bounce_address",
    "verify_domain",
]
