"""One-click unsubscribe (RFC 8058) as a use case: the headers a message carries, and the POST.

Owns deciding when a message gets ``List-Unsubscribe`` (asked per message; exactly one
recipient, since one URL in a message shared by several would unsubscribe them all; a public
URL configured; no List-Unsubscribe of the customer's own) and its two fields:
``List-Unsubscribe: <https://…/u/<token>>, <mailto:unsubscribe@pstbounces.<domain>?subject=
<token>>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058 §3.1; both
DKIM-signed, dkim/signer.py signs them when present). The mailto arrives at the inbound
listener (services.return_path), which passes its Subject here.
Receiving the POST (or that mail): a valid token suppresses the address for that account with
reason ``unsubscribe`` and emits ``email.unsubscribed``; an invalid one changes nothing.
It must not speak HTTP (the API answers; a GET never gets here).
"""

from __future__ import annotations

from collections.abc import Callable

from postillon.domains.return_path import unsubscribe_address
from postillon.message.errors import ValidationProblem
from postillon.message.model import ValidEmail
from postillon.services.unsubscribe_token import UnsubscribeTarget, UnsubscribeTokens
from postillon.storage.unsubscribes_sql import SqlUnsubscribes, Unsubscribed

# RFC 8058 §3.1: the one value of List-Unsubscribe-Post.
ONE_CLICK = "List-Unsubscribe=One-Click"
# The path under [api] public_url the token is appended to.
PATH = "/u/"

Headers = tuple[tuple[str, str], ...]


def problem_with(email: ValidEmail, public_url: str | None) -> ValidationProblem | None:
    """Why ``email`` cannot carry one-click unsubscribe, or None when it can."""
    if public_url is None:
        return ValidationProblem("unsubscribe", "this service has no [api] public_url configured")
    if len(email.to) + len(email.cc) + len(email.bcc) != 1:
        return ValidationProblem(
            "unsubscribe", "one-click unsubscribe needs exactly one recipient (to, cc and bcc)"
        )
    if any(name.lower().startswith("list-unsubscribe") for name, _ in email.headers):
        return ValidationProblem(
            "unsubscribe", "give either unsubscribe or your own List-Unsubscribe header, not both"
        )
    return None


class UnsubscribeService:
    """Makes the header fields and takes the POSTs."""

    def __init__(self, rows: SqlUnsubscribes, tokens: UnsubscribeTokens) -> None:
        self._rows = rows
        self._tokens = tokens

    def header_maker(
        self, account_id: str, email: ValidEmail, public_url: str
    ) -> Callable[[str], Headers]:
        """The fields for ``email``'s one recipient, given its Message-ID once composed."""
        [recipient] = (*email.to, *email.cc, *email.bcc)
        base = public_url.rstrip("/")
        mailbox = unsubscribe_address(email.from_.domain)

        def make(message_id: str) -> Headers:
            token = self._tokens.make(
                UnsubscribeTarget(account_id, recipient.addr_spec, message_id)
            )
            # RFC 2369 §2: angle-bracketed URIs in order of preference, https first.
            links = f"<{base}{PATH}{token}>, <mailto:{mailbox}?subject={token}>"
            return (("List-Unsubscribe", links), ("List-Unsubscribe-Post", ONE_CLICK))

        return make

    def target(self, token: str) -> UnsubscribeTarget | None:
        """What ``token`` would unsubscribe (for the confirmation page), or None."""
        return self._tokens.read(token)

    async def unsubscribe(self, token: str) -> Unsubscribed | None:
        """Apply the token's unsubscribe; None (nothing changed) for a token we did not make."""
        target = self._tokens.read(token)
        if target is None:
            return None
        return await self._rows.unsubscribe(
            account_id=target.account_id,
            address=target.address,
            header_message_id=target.header_message_id,
        )
