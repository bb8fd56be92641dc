"""Errors of the endpoint service, under :mod:`postillon.errors`.

EndpointNotFoundError (WebhookError, permanent)  no such endpoint for this account
EventNotFoundError (WebhookError, permanent)     no such event for this account (replay)
TooManyEndpointsError (WebhookError, permanent)  the account has as many endpoints as allowed
UnresolvableHostError (TemporaryError)           the URL's host did not resolve at
                                                 registration; the SSRF guard cannot judge it
"""

from __future__ import annotations

from postillon.errors import TemporaryError
from postillon.webhooks.errors import WebhookError


class EndpointNotFoundError(WebhookError):
    """The account has no endpoint with this id."""


class EventNotFoundError(WebhookError):
    """The account has no event with this id."""


class TooManyEndpointsError(WebhookError):
    """The account already has the most endpoints an account may have."""


class UnresolvableHostError(TemporaryError):
    """A webhook URL's host name did not resolve, so it could not be vetted."""
