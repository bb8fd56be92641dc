"""Helpers for the domains and suppressions page tests: a second account. Verified sender
domains are conftest's; signing in, screenshots and signed HTTP clients are browsing.py's."""

from __future__ import annotations

from postillon.app import Node
from postillon.storage.records import Account


async def other_account(node: Node, name: str = "rival") -> tuple[Account, str]:
    """A second account and its API key."""
    _, token = await node.services.keys.create(name)
    account = await node.services.keys.authenticate(token)
    assert account is not None
    return account, token
