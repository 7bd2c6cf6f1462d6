"""Every LLM call's usage and cost: into `context.Variables` and the `aigw.cost` metric.

Runs when the backend's response is complete: right after the backend call for a buffered
response (so outbound policies can read the variables), when the request is done for a
stream. The model is the one the response names (else the request's, else the Azure
deployment); the price is the price table's row for the backend's provider and that model.

Variables set: `llm-model`, `llm-prompt-tokens`, `llm-completion-tokens`, `llm-total-tokens`,
and `llm-cost` (dollars, as a float; absent when the model has no price row).
"""

from __future__ import annotations

from gateway.config.settings import GatewayConfig
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import price_of, request_json, request_model, response_usage
from gateway.runtime.services import Metrics
from gateway.tokens.prices import Price, PriceTable

_STYLE_PROVIDERS = frozenset({"openai", "azure-openai", "anthropic"})


class Prices:
    """The price of a model where a call goes: at its backend's provider, else by the API's
    style (the runtime's `Prices` service)."""

    def __init__(self, config: GatewayConfig, table: PriceTable) -> None:
        self.providers = {b.id: b.provider for b in config.backends.values()}
        self.styles = {a.id: a.style for a in config.apis.values()}
        self.table = table

    def price(self, backend: str, api: str, model: str) -> Price | None:
        provider = self.providers.get(backend)
        if provider is None:
            style = self.styles.get(api, "openai")
            provider = style if style in _STYLE_PROVIDERS else "openai"
        return self.table.find(provider, model)


class Accounting:
    def __init__(self, metrics: Metrics | None) -> None:
        self.metrics = metrics

    def forwarded(self, context: RequestContext) -> None:
        """Account a response the backend call just got: now when it is whole, once done
        when it streams."""
        if context.response_stream is None:
            self.account(context)  # before outbound: its policies see the cost
        else:
            context.defer(Phase.DONE, self.account_stream)

    def account(self, context: RequestContext) -> None:
        usage = response_usage(context)
        if usage is None:
            return
        model = usage.model or request_model(context, request_json(context))
        variables = context.variables
        variables["llm-model"] = model
        variables["llm-prompt-tokens"] = usage.prompt
        variables["llm-completion-tokens"] = usage.completion
        variables["llm-total-tokens"] = usage.total
        price = price_of(context, model)
        if price is None:
            return
        cost = price.cost(usage)
        variables["llm-cost"] = float(cost)
        if self.metrics is not None:
            self.metrics.add("aigw", "Cost", float(cost), _dimensions(context, model))

    async def account_stream(self, context: RequestContext) -> None:
        self.account(context)


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
