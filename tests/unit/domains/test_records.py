"""The records a customer publishes: names, types, values, 255-octet strings, SPF text."""

from __future__ import annotations

from datetime import date

import pytest

from postillon.config.settings import DeliverySettings
from postillon.dkim import dated_selector, generate_ed25519_key, generate_rsa_key
from postillon.domains import (
    InvalidDomainError,
    NoSourceAddressesError,
    RecordKind,
    RecordPurpose,
    required_records,
    spf_value,
)

SELECTOR = dated_selector(date(2026, 11, 29), lambda n: b"\x00" * n)


def test_required_records_for_a_domain() -> None:
    key = generate_rsa_key()
    delivery = DeliverySettings(helo_name="MTA1.example.net.", source_addresses=("203.0.113.7",))
    dkim, spf, mx, dmarc = required_records("Shop.Example.", SELECTOR, key.txt_record(), delivery)

    assert (dkim.purpose, dkim.type, dkim.is_required) == (
        RecordPurpose.DKIM,
        RecordKind.TXT,
        True,
    )
    assert dkim.name == f"{SELECTOR}._domainkey.shop.example"
    assert dkim.value == key.txt_record()
    assert dkim.value.startswith("v=DKIM1; k=rsa; p=MIIB")
    assert len(dkim.value_strings) == 2  # an RSA-2048 record is over 255 octets
    assert "".join(dkim.value_strings) == dkim.value
    assert all(len(s.encode()) <= 255 for s in dkim.value_strings)

    assert (spf.purpose, spf.type, spf.is_required) == (RecordPurpose.SPF, RecordKind.TXT, True)
    assert spf.name == "pstbounces.shop.example"
    assert spf.value == "v=spf1 ip4:203.0.113.7 -all"
    assert spf.value_strings == (spf.value,)

    assert (mx.purpose, mx.type, mx.is_required) == (
        RecordPurpose.RETURN_PATH,
        RecordKind.MX,
        False,
    )
    assert (mx.name, mx.value, mx.value_strings) == (
        "pstbounces.shop.example",
        "10 mta1.example.net",
        (),
    )

    assert (dmarc.purpose, dmarc.type, dmarc.is_required) == (
        RecordPurpose.DMARC,
        RecordKind.TXT,
        False,
    )
    assert dmarc.name == "_dmarc.shop.example"
    assert dmarc.value == "v=DMARC1; p=none; adkim=r; aspf=r"


def test_ed25519_key_record_fits_one_string() -> None:
    key = generate_ed25519_key()
    delivery = DeliverySettings(helo_name="mta", source_addresses=("203.0.113.7",))
    dkim = required_records("shop.example", SELECTOR, key.txt_record(), delivery)[0]
    assert dkim.value.startswith("v=DKIM1; k=ed25519; p=")
    assert dkim.value_strings == (dkim.value,)


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        pytest.param(("203.0.113.7",), "v=spf1 ip4:203.0.113.7 -all", id="one"),
        pytest.param(
            ("203.0.113.7", "203.0.113.6", "203.0.113.7"),
            "v=spf1 ip4:203.0.113.6/31 -all",
            id="collapsed-and-deduplicated",
        ),
        pytest.param(
            ("2001:db8::1", "203.0.113.9"),
            "v=spf1 ip4:203.0.113.9 ip6:2001:db8::1 -all",
            id="ipv4-first",
        ),
        pytest.param(
            ("203.0.113.1", "203.0.113.3", " 2001:DB8::A "),
            "v=spf1 ip4:203.0.113.1 ip4:203.0.113.3 ip6:2001:db8::a -all",
            id="apart-and-normalised",
        ),
    ],
)
def test_spf_value(addresses: tuple[str, ...], expected: str) -> None:
    assert spf_value(addresses) == expected


@pytest.mark.parametrize(
    ("addresses", "message_part"),
    [
        pytest.param(("mta.example.net",), "is not an IP address", id="host-name"),
        pytest.param(("203.0.113.0/24",), "is not an IP address", id="network"),
    ],
)
def test_no_usable_source_address_is_a_config_error(
    addresses: tuple[str, ...], message_part: str
) -> None:
    with pytest.raises(NoSourceAddressesError) as raised:
        spf_value(addresses)
    assert "delivery.spf_addresses" in str(raised.value)
    assert message_part in str(raised.value)
    assert not raised.value.is_transient


def test_no_address_configured_authorizes_the_helo_names_addresses() -> None:
    delivery = DeliverySettings(helo_name="MTA.Example.net.")
    records = required_records("shop.example", SELECTOR, "v=DKIM1; p=AB", delivery)
    spf = next(r for r in records if r.purpose is RecordPurpose.SPF)
    assert spf.value == "v=spf1 a:mta.example.net -all"


def test_spf_addresses_win_over_bind_addresses() -> None:
    delivery = DeliverySettings(
        helo_name="mta", bind_addresses=("10.0.0.5",), spf_addresses=("203.0.113.9",)
    )
    records = required_records("shop.example", SELECTOR, "v=DKIM1; p=AB", delivery)
    spf = next(r for r in records if r.purpose is RecordPurpose.SPF)
    assert spf.value == "v=spf1 ip4:203.0.113.9 -all"


def test_bad_domain_is_refused() -> None:
    delivery = DeliverySettings(helo_name="mta", source_addresses=("203.0.113.7",))
    with pytest.raises(InvalidDomainError):
        required_records("shop example", SELECTOR, "v=DKIM1; p=AB", delivery)
