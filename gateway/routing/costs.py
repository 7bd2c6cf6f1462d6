"""What a call would cost on each backend, before it is sent: for `cheapest` and hedging."""

from __future__ import annotations

from collections.abc import Callable

from gateway.common.fastjson import loads
from gateway.config.settings import GatewayConfig
from gateway.runtime.context import RequestContext
from gateway.tokens.prices import PriceTable
from gateway.tokens.tokenizer import count_prompt, output_cap

DEFAULT_OUTPUT = 1024  # output tokens assumed for a call that sets no maximum


class CallCosts:
    def __init__(self, config: GatewayConfig, prices: PriceTable) -> None:
        self.providers = {b.id: b.provider for b in config.backends.values()}
        self.models = {b.id: b.models for b in config.backends.values()}
        self.prices = prices

    async def estimator(
        self, context: RequestContext, prompt_only: bool = False
    ) -> Callable[[str], float | None]:
        """Dollars this call would cost on a backend (None: no price for its model there). A
        large prompt is counted off the event loop (count_prompt)."""
        body = context.model.Request.Body
        raw = body.read(preserve=True) if body is not None else b""
        try:
            request = loads(raw) if raw else {}
        except (ValueError, UnicodeDecodeError):  # fastjson's loads: nested too deep is one too
            request = {}
        if not isinstance(request, dict):
            request = {}
        model = str(request.get("model") or "")
        prompt = await count_prompt(request, model, len(raw)) if model else 0
        output = 0 if prompt_only else output_cap(request, DEFAULT_OUTPUT)

        def cost_of(backend: str) -> float | None:
            """At the backend's prices for the model it serves the call with (its `models`)."""
            if not model:
                return None
            served = self.models.get(backend, {}).get(model, model)
            price = self.prices.find(self.providers.get(backend, ""), served)
            return float(price.ceiling(prompt, output)) if price is not None else None

        return cost_of
