"""The policy statements: one module each, declaring its `SPEC` beside its compile function.

Statement modules are discovered, not listed: every module of this package is a statement, and
`default_registry()` holds them all. What statements share lives in the `support` subpackage,
which discovery passes over.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from gateway.policy.registry import Registry
from gateway.policy.spec import StatementSpec


@cache
def default_registry() -> Registry:
    """Every statement module's `SPEC`; a module without one is an error, not a helper."""
    specs = []
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.ispkg:
            continue
        name = f"{__name__}.{module_info.name}"
        spec = getattr(importlib.import_module(name), "SPEC", None)
        if not isinstance(spec, StatementSpec):
            raise TypeError(
                f"{name} declares no SPEC (a StatementSpec): every module of gateway.statements "
                "is a statement; move helpers into gateway/statements/support/"
            )
        specs.append(spec)
    return Registry(specs)
