"""A lint warning for an API whose backend will refuse some of its built-in operations.

An API of one provider's style whose backend (every member of its pool) is of the other
provider gets its calls translated where the gateway can (gateway.providers.crossings), and
the others refused with a 400 at run time: an OpenAI-style API served by Anthropic refuses
legacy completions and embeddings. The warning names them, once per API, where the
API's backend is declared. A policy's set-backend-service can still send a call elsewhere, so
this is a warning, not an error.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.common.diagnostics import Location, Report
from gateway.config.settings import GatewayConfig
from gateway.config.styles import BUILT_IN_OPERATIONS
from gateway.providers.crossings import crossing


def check_refused_operations(
    config: GatewayConfig, at: Callable[..., Location], report: Report
) -> None:
    for api in config.apis.values():
        providers = _providers(config, api.backend, set())
        if api.backend is None or not providers:
            continue
        refused = [
            operation.id
            for operation in BUILT_IN_OPERATIONS.get(api.style, ())
            if all(crossing(operation.id, api.style, p) == "refused" for p in providers)
        ]
        if refused:
            report.warning(
                at("apis", api.id, "backend"),
                "refused-operation",
                f"API '{api.id}' (style {api.style}) has backend '{api.backend}', whose "
                f"provider does not serve {', '.join(refused)}: those calls will be refused "
                "with a 400 (operation_not_supported); see docs/resilience.md",
            )


def _providers(config: GatewayConfig, backend_id: str | None, seen: set[str]) -> set[str]:
    """The providers of a backend, or of every member of its pool (nested pools too)."""
    backend = config.backends.get(backend_id or "")
    if backend is None or backend.id in seen:
        return set()
    seen.add(backend.id)
    if backend.pool is None:
        return {backend.provider}
    found: set[str] = set()
    for member in backend.pool.services:
        found |= _providers(config, member.backend, seen)
    return found
