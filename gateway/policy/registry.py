"""The registry: statement declarations, looked up by name or alias.

The registry is the single source of truth for the linter, the compiler, `aigw schemas` and
the docs. `gateway.statements.default_registry()` builds the one of every statement module.
"""

from __future__ import annotations

from gateway.common.suggest import nearest
from gateway.policy.spec import StatementSpec


class Registry:
    def __init__(self, specs: list[StatementSpec]) -> None:
        self._by_name: dict[str, StatementSpec] = {}
        self._specs = sorted(specs, key=lambda s: s.name)
        for spec in self._specs:
            for name in spec.names:
                if name in self._by_name:
                    raise ValueError(f"statement name '{name}' is declared twice")
                self._by_name[name] = spec

    def get(self, name: str) -> StatementSpec | None:
        return self._by_name.get(name)

    def specs(self) -> list[StatementSpec]:
        """Each statement once, in canonical-name order."""
        return list(self._specs)

    def names(self) -> list[str]:
        """Every name and alias, sorted."""
        return sorted(self._by_name)

    def suggest(self, name: str) -> str | None:
        """The known name closest to `name`, for "did you mean" messages."""
        return nearest(name, self._by_name)
