"""The policy statements: one module each, declaring its `SPEC` beside its compile function.

Statement modules are discovered, not listed: `default_registry()` holds every module of this
package that declares a `SPEC`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from gateway.policy.registry import Registry
from gateway.policy.spec import StatementSpec


@cache
def default_registry() -> Registry:
    specs = []
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, StatementSpec):
            specs.append(spec)
    return Registry(specs)
