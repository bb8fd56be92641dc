"""The DNS records a customer publishes so that mail from their domain passes DKIM, SPF, DMARC.

For a sender domain ``<domain>`` with DKIM selector ``pst20261129-k3x9qdma``:

===========  ====  ========================================  ===============================
purpose      type  name                                      value
===========  ====  ========================================  ===============================
dkim         TXT   pst20261129-k3x9qdma._domainkey.<domain>  ``v=DKIM1; k=rsa; p=MIIB...``
spf          TXT   pstbounces.<domain>                       ``v=spf1 ip4:203.0.113.7 -all``
return_path  MX    pstbounces.<domain>                       ``10 <delivery.helo_name>``
dmarc        TXT   _dmarc.<domain>                           ``v=DMARC1; p=none; ...``
===========  ====  ========================================  ===============================

DKIM and SPF are required (a domain is verified when both are). The MX is advised: receivers
that check the envelope sender's domain refuse one that has neither MX nor address, and it
brings bounces back to our MTA (``delivery.helo_name``). DMARC is only a suggestion: the
customer's own record always wins, and mail aligns under any relaxed policy.

The SPF record ends in ``-all``: the return-path subdomain is used by postillon alone. It
lists ``delivery.spf_addresses`` (else ``delivery.bind_addresses``; contiguous ones collapsed
into networks). With neither configured it says ``a:<delivery.helo_name>``: the addresses our
EHLO name resolves to, which a well-run MTA's name points at anyway (verification then checks
those). Pure: no DNS.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from postillon.config.settings import DeliverySettings
from postillon.dkim import record_name, split_txt
from postillon.domains.errors import NoSourceAddressesError
from postillon.domains.names import normalize_domain, return_path_domain

# The MX preference of the bounce host: the only MX at that name, any value works.
BOUNCE_MX_PREFERENCE = 10
# RFC 7489 §6.1: the policy record lives at "_dmarc." + the From domain.
DMARC_LABEL = "_dmarc"
# p=none: monitoring only, the one policy that never loses mail while a customer checks that
# all their senders pass; adkim/aspf=r spell out the relaxed alignment our return path needs.
SUGGESTED_DMARC = "v=DMARC1; p=none; adkim=r; aspf=r"
SOURCE_ADDRESSES_KEY = "delivery.spf_addresses"


class RecordPurpose(enum.StrEnum):
    """What a record is for."""

    DKIM = "dkim"
    SPF = "spf"
    RETURN_PATH = "return_path"
    DMARC = "dmarc"


class RecordKind(enum.StrEnum):
    """The DNS type of a record to publish."""

    TXT = "TXT"
    MX = "MX"


@dataclass(frozen=True)
class DnsRecordSpec:
    """One record to publish. ``value`` is the record data as DNS hosting panels take it
    (TXT: the whole text; MX: ``"<preference> <host>"``); ``value_strings`` is a TXT value cut
    into character-strings of at most 255 octets (RFC 1035 §3.3.14), () for other types.
    ``is_required``: the domain is verified only when every required record is."""

    purpose: RecordPurpose
    type: RecordKind
    name: str
    value: str
    value_strings: tuple[str, ...]
    is_required: bool


def _txt(purpose: RecordPurpose, name: str, value: str, *, is_required: bool) -> DnsRecordSpec:
    return DnsRecordSpec(purpose, RecordKind.TXT, name, value, split_txt(value), is_required)


def source_networks(
    addresses: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Our sending addresses as the fewest networks that cover exactly them, IPv4 first.

    Raises :class:`NoSourceAddressesError` for an empty list or a value that is not an IP.
    """
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            raise NoSourceAddressesError(
                f"{SOURCE_ADDRESSES_KEY}: {text!r} is not an IP address"
            ) from None
        if isinstance(address, ipaddress.IPv4Address):
            v4.append(ipaddress.IPv4Network(address))
        else:
            v6.append(ipaddress.IPv6Network(address))
    if not v4 and not v6:
        raise NoSourceAddressesError(
            f"{SOURCE_ADDRESSES_KEY} is empty and delivery.helo_name resolves to no address: "
            "without the public addresses postillon sends from, no SPF record can authorize "
            "them; list them in [delivery] spf_addresses"
        )
    return (*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6))


def spf_value(addresses: Iterable[str]) -> str:
    """``v=spf1 ip4:... ip6:... -all`` authorizing exactly ``addresses`` (RFC 7208 §5.6)."""
    terms = []
    for network in source_networks(addresses):
        mechanism = "ip4" if network.version == 4 else "ip6"
        if network.prefixlen == network.max_prefixlen:
            terms.append(f"{mechanism}:{network.network_address}")
        else:
            terms.append(f"{mechanism}:{network}")
    return " ".join(["v=spf1", *terms, "-all"])


def dmarc_name(domain: str) -> str:
    """``_dmarc.<domain>`` (RFC 7489 §6.1)."""
    return f"{DMARC_LABEL}.{normalize_domain(domain)}"


def required_records(
    domain: str, selector: str, key_record: str, delivery: DeliverySettings
) -> tuple[DnsRecordSpec, ...]:
    """The records to publish for ``domain``: DKIM, SPF, return-path MX, DMARC, in that order.

    ``key_record`` is the DKIM key record text (``SigningKey.txt_record()``). Raises
    :class:`InvalidDomainError` for a bad domain and :class:`NoSourceAddressesError` when
    ``delivery.spf_addresses`` (or ``bind_addresses``) holds something that is not an IP.
    """
    name = normalize_domain(domain)
    return_path = return_path_domain(name)
    bounce_host = delivery.helo_name.strip().rstrip(".").lower()
    addresses = delivery.public_addresses
    spf = spf_value(addresses) if addresses else f"v=spf1 a:{bounce_host} -all"
    return (
        _txt(RecordPurpose.DKIM, record_name(selector, name), key_record, is_required=True),
        _txt(RecordPurpose.SPF, return_path, spf, is_required=True),
        DnsRecordSpec(
            RecordPurpose.RETURN_PATH,
            RecordKind.MX,
            return_path,
            f"{BOUNCE_MX_PREFERENCE} {bounce_host}",
            (),
            is_required=False,
        ),
        _txt(RecordPurpose.DMARC, dmarc_name(name), SUGGESTED_DMARC, is_required=False),
    )
