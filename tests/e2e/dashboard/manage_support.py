"""Helpers for the domains and suppressions page tests: a second account, and a verified sender
domain. Signing in, screenshots and signed HTTP clients are browsing.py's."""

from __future__ import annotations

from postillon.app import Node
from postillon.services.domain_views import DomainStatus
from postillon.storage.records import Account
from tests.integration.services.conftest import new_domain
from tests.integration.services.publish import publish
from tests.support.dns_server import TestDns


async def other_account(node: Node, name: str = "rival") -> tuple[Account, str]:
    """A second account and its API key."""
    _, token = await node.services.keys.create(name)
    account = await node.services.keys.authenticate(token)
    assert account is not None
    return account, token


async def verified_domain(node: Node, account: Account, test_dns: TestDns, label: str) -> str:
    """A new sender domain of ``account`` with its records published and verified."""
    name = new_domain(test_dns, label)
    added = await node.services.domains.add(account, name)
    publish(test_dns, name, added.records)
    assert (await node.services.domains.verify(account, name)).status is DomainStatus.VERIFIED
    return name
