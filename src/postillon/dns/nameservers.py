"""Parsing the ``[dns] nameservers`` setting: "address:port" text into (address, port).

Owns: the accepted forms ("192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53", "2001:db8::1").
Pure; it must not resolve anything: a name server is given by address, never by name.
"""

from __future__ import annotations

import ipaddress

from postillon.errors import ConfigError

DNS_PORT = 53  # RFC 1035 §4.2
SETTING = "dns.nameservers"


def parse_nameserver(text: str) -> tuple[str, int]:
    """The address (as text) and port of one name server; the port defaults to 53.

    Raises ConfigError naming ``dns.nameservers`` when ``text`` is not an IP address with an
    optional port in 1..65535 (IPv6 with a port must be bracketed).
    """
    raw = text.strip()
    host, port_text = raw, ""
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"{SETTING}: {text!r} is not [address]:port")
        port_text = rest[1:]
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"{SETTING}: {text!r} does not start with an IP address") from None
    port = DNS_PORT
    if port_text or raw.endswith(":"):
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"{SETTING}: {text!r} has no valid port (1-65535)")
        port = int(port_text)
    return str(address), port
