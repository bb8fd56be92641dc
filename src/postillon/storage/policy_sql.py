"""MTA-STS policies in the database, so a restart keeps them (RFC 8461 §5.1 caching).

Owns the ``mta_sts_policies`` table (one row per recipient domain, never per MX host) and the
:class:`postillon.policy.store.PolicyStore` over it. Must not judge freshness: the policy cache
decides whether a loaded policy still applies.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from postillon.policy.model import MtaStsMode, MtaStsPolicy
from postillon.storage.connect import Engines
from postillon.storage.schema import mta_sts_policies


class SqlPolicyStore:
    """The last good policy of each recipient domain, in the store's database."""

    def __init__(self, engines: Engines) -> None:
        self._engines = engines

    async def load(self, domain: str) -> MtaStsPolicy | None:
        query = sa.select(mta_sts_policies).where(mta_sts_policies.c.domain == domain)
        async with self._engines.reader.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        return MtaStsPolicy(
            domain=row["domain"],
            id=row["policy_id"],
            mode=MtaStsMode(row["mode"]),
            mx=tuple(row["mx"]),
            max_age_s=int(row["max_age_s"]),
            fetched_at=row["fetched_at"],
        )

    async def save(self, policy: MtaStsPolicy) -> None:
        values = {
            "domain": policy.domain,
            "policy_id": policy.id,
            "mode": policy.mode.value,
            "mx": list(policy.mx),
            "max_age_s": policy.max_age_s,
            "fetched_at": policy.fetched_at,
        }
        dialect = postgresql if self._engines.dialect == "postgresql" else sqlite
        statement = dialect.insert(mta_sts_policies).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[mta_sts_policies.c.domain],
            set_={k: statement.excluded[k] for k in values if k != "domain"},
        )
        async with self._engines.write() as connection:
            await connection.execute(statement)
