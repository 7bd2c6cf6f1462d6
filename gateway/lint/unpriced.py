"""Warnings where an `llm-cost-limit` or a `cheapest` pool can meet a model with no price.

A backend whose `models` map names the models it serves is checked model by model against the
price table in use (the shipped rows and gateway.yaml's `pricing`). A backend without one
serves whatever model the client names, known only at run time: it is warned about only when
its provider has no prices at all (an `openai-compatible` or `http` backend, say), since then
every call to it is unpriced. What an unpriced call does is gateway.yaml's
`limits.unpriced-models`: the warning says which.
"""

from __future__ import annotations

from collections.abc import Iterator

from gateway.common.diagnostics import Diagnostic, Location, Severity
from gateway.config.settings import GatewayConfig
from gateway.load import Inspection
from gateway.tokens.prices import PriceTable

RULE = "unpriced-model"
OUTCOMES = {
    "refuse": "such calls are refused with 403 (limits.unpriced-models: refuse)",
    "dearest": "such calls count at the provider's dearest rates (limits.unpriced-models: dearest)",
    "allow": "such calls pass the limit uncounted (limits.unpriced-models: allow)",
}
FIX = "add `pricing` rows to gateway.yaml for them"


def unpriced_warnings(inspection: Inspection) -> list[Diagnostic]:
    config = inspection.config
    if config is None:
        return []
    table = PriceTable(row.price() for row in config.pricing)
    found: dict[tuple[str, str], Diagnostic] = {}  # one per place and problem

    def warn(where: Location, message: str) -> None:
        found.setdefault((str(where), message), Diagnostic(where, Severity.WARNING, RULE, message))

    config_file = Location(str(inspection.root / "gateway.yaml"))
    for backend in config.backends.values():
        if backend.pool is not None and backend.pool.strategy == "cheapest":
            for problem in _unpriced(config, table, backend.id):
                warn(config_file, f"cheapest pool '{backend.id}': {problem}; it goes last; {FIX}")
    outcome = OUTCOMES[config.limits.unpriced_models]
    for target, root in inspection.effective.items():
        limits = [node for node in root.walk() if node.tag == "llm-cost-limit"]
        api = config.apis.get(target.api)
        backends = {api.backend} if api is not None and api.backend else set()
        for node in root.walk():
            chosen = node.attr_text("backend-id") if node.tag == "set-backend-service" else None
            if chosen and not chosen.startswith("@"):
                backends.add(chosen)
        for limit in limits:
            for backend_id in sorted(backends):
                for problem in _unpriced(config, table, backend_id):
                    warn(limit.location, f"llm-cost-limit: {problem}; {outcome}; {FIX}")
    return list(found.values())


def _unpriced(config: GatewayConfig, table: PriceTable, backend_id: str) -> Iterator[str]:
    """What a call through `backend_id` (a pool: through any member) may find unpriced."""
    backend = config.backends.get(backend_id)
    if backend is None:
        return
    if backend.pool is not None:
        for member in backend.pool.services:
            yield from _unpriced(config, table, member.backend)
        return
    provider = backend.provider
    if backend.models:
        for asked, served in backend.models.items():
            if table.find(provider, served) is None:
                named = f"'{asked}'" + (f" (as '{served}')" if served != asked else "")
                yield f"backend '{backend_id}' serves {named}, which has no {provider} price"
    elif not table.prices(provider):
        yield (
            f"backend '{backend_id}' ({provider}) has no prices, and its model is known only at "
            "run time (list it under the backend's `models` to have it checked)"
        )
