"""A verified sender domain for the sending tests, and a plain email from it."""

from __future__ import annotations

from postillon.message.model import OutgoingEmail
from postillon.services.domain_views import DomainStatus
from postillon.services.sending import SendRequest
from postillon.storage import Account
from tests.integration.services.conftest import World, new_domain
from tests.integration.services.publish import publish
from tests.support.dns_server import TestDns


async def verified_domain(
    world: World, account: Account, test_dns: TestDns, label: str, *extra: str
) -> str:
    """Add a domain, publish its records (and ``extra`` zone lines), verify it."""
    domain = new_domain(test_dns, label)
    added = await world.services.domains.add(account, domain)
    publish(test_dns, domain, added.records, *extra)
    view = await world.services.domains.verify(account, domain)
    assert view.status is DomainStatus.VERIFIED, view
    return domain


def email_from(
    domain: str, *, to: str = "bob@receiver.example", subject: str = "Hi"
) -> SendRequest:
    """A small text email from ``alice@<domain>``."""
    return SendRequest(
        email=OutgoingEmail(
            from_=f"Alice Example <alice@{domain}>",
            to=(to,),
            subject=subject,
            text="Hello Bob,  \n\ntrailing spaces and blank lines.\n\n",
        ),
        tags=("welcome",),
        metadata={"user": "42"},
    )
