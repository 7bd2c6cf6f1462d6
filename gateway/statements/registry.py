"""The registry: every statement module's declaration, looked up by name or alias.

Statement modules are discovered, not listed: a module of this package that defines `SPEC`
is a statement. The registry is the single source of truth for the linter, the compiler,
`aigw schemas` and the docs.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from gateway.policy.suggest import nearest
from gateway.statements.spec import StatementSpec

_NOT_STATEMENTS = frozenset({"spec", "registry", "compiling", "common"})


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


@cache
def default_registry() -> Registry:
    import gateway.statements as package

    specs = []
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name in _NOT_STATEMENTS:
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, StatementSpec):
            specs.append(spec)
    return Registry(specs)
