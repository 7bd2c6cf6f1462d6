"""Every LLM call's usage and cost: into `context.Variables` and the `aigw.cost` metric.

Runs when the backend's answer is complete: right after forward-request for a buffered answer
(so outbound policies can read the variables), after the last chunk for a stream. The model
is the one the answer names (else the request's, else the Azure deployment); the price is the
price table's row for the backend's provider and that model.

Variables set: `llm-model`, `llm-prompt-tokens`, `llm-completion-tokens`, `llm-total-tokens`,
and `llm-cost` (dollars, as a float; absent when the model has no price row).
"""

from __future__ import annotations

from decimal import Decimal

from gateway.config.model import GatewayConfig
from gateway.fastjson import loads
from gateway.runtime.context import RequestContext
from gateway.telemetry.metrics import Metrics
from gateway.tokens.prices import Price, PriceTable
from gateway.tokens.usage import answer_usage, from_json_body


class Accounting:
    def __init__(self, config: GatewayConfig, metrics: Metrics | None) -> None:
        self.providers = {b.id: b.provider for b in config.backends.values()}
        self.styles = {a.id: a.style for a in config.apis.values()}
        self.prices = PriceTable(config.pricing)
        self.metrics = metrics

    def account(self, context: RequestContext) -> None:
        usage = answer_usage(context)
        if usage is None:
            return
        model = usage.model or _request_model(context)
        variables = context.variables
        variables["llm-model"] = model
        variables["llm-prompt-tokens"] = usage.prompt
        variables["llm-completion-tokens"] = usage.completion
        variables["llm-total-tokens"] = usage.total
        price = self._price(context, model)
        if price is None:
            return
        cost = price.cost(usage)
        variables["llm-cost"] = float(cost)
        if self.metrics is not None:
            self.metrics.add("aigw", "Cost", float(cost), _dimensions(context, model))

    def ceiling(
        self, context: RequestContext, model: str, prompt: int, output: int
    ) -> Decimal | None:
        """The most a call to `model` can cost, before it is sent (None: no price for it)."""
        price = self._price(context, model)
        return price.ceiling(prompt, output) if price is not None else None

    def cost_of(self, context: RequestContext, model: str, answer: bytes) -> Decimal | None:
        """What an answer (a provider's JSON document) cost, priced as this call would be."""
        usage = from_json_body(answer)
        price = self._price(context, model)
        return price.cost(usage) if usage is not None and price is not None else None

    def _price(self, context: RequestContext, model: str) -> Price | None:
        backend = context.backend_member or context.backend or ""
        provider = self.providers.get(backend) or self._style_provider(context)
        return self.prices.find(provider, model)

    def _style_provider(self, context: RequestContext) -> str:
        style = self.styles.get(context.model.Api.Id, "openai")
        return style if style in ("openai", "azure-openai", "anthropic") else "openai"

    async def account_stream(self, context: RequestContext) -> None:
        self.account(context)


def _request_model(context: RequestContext) -> str:
    """The model the request asked for, else the Azure deployment its URL names."""
    body = context.model.Request.Body
    if body is not None:
        text = body.read(preserve=True)
        if text.startswith(b"{"):
            try:
                model = loads(text).get("model")
            except (ValueError, AttributeError):
                model = None
            if isinstance(model, str) and model:
                return model
    return str(context.model.Request.MatchedParameters.get("deployment-id", ""))


def _dimensions(context: RequestContext, model: str) -> dict[str, str]:
    model_of = context.model
    return {
        "API ID": model_of.Api.Id,
        "Operation ID": model_of.Operation.Id,
        "Product ID": model_of.Product.Id if model_of.Product is not None else "",
        "Subscription ID": model_of.Subscription.Id if model_of.Subscription is not None else "",
        "Backend ID": context.backend or "",
        "Model": model,
    }
