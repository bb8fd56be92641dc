"""An AddressResolver for tests: answers from a table, call by call (to script DNS rebinding).

Owns nothing else; it never touches the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ScriptedResolver:
    """An AddressResolver answering from a table; later calls may get other answers (rebinding)."""

    def __init__(self, answers: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self._answers = answers
        self.calls: list[str] = []

    async def addresses(self, host: str) -> list[str]:
        per_call = self._answers[host]
        answer = per_call[min(sum(1 for h in self.calls if h == host), len(per_call) - 1)]
        self.calls.append(host)
        if not answer:
            raise OSError(f"{host}: NXDOMAIN")
        return list(answer)
