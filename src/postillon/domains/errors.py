"""Sender-domain errors, under the two branches of :mod:`postillon.errors`.

Neither is worth retrying as is: a name that is not a domain must be fixed by the customer,
and an SPF record with no address to authorize must be fixed by the operator.

    InvalidDomainError (PermanentError)   the customer's name is not a usable mail domain
    NoSourceAddressesError (ConfigError)  delivery.spf_addresses is empty or not IPs
"""

from __future__ import annotations

from postillon.errors import ConfigError, PermanentError


class InvalidDomainError(PermanentError):
    """A sender domain (or a message id for a bounce address) that cannot be used as given."""


class NoSourceAddressesError(ConfigError):
    """``delivery.spf_addresses`` is empty or holds something that is not an IP address:
    without our sending addresses there is no SPF record to publish."""
