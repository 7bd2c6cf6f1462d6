"""Every LLM call's usage and cost: into `context.Variables` and the `aigw.cost` metric.

The figures are those of the response the client gets (gateway.runtime.llm_call): each backend
call replaces the one before (a retry, another pool member), figures and all. A whole
response's go into the variables right after the backend call (so outbound policies can read
them), a stream's once it has ended; the cost is added to the metric once, when the request is
done, from whichever response was last. The model is the one the response names (else the
request's, else the Azure deployment); the price is the price table's row for the provider of
the backend that answered and that model.

Variables set: `llm-model`, `llm-prompt-tokens`, `llm-completion-tokens`, `llm-total-tokens`,
and `llm-cost` (dollars, as a float; absent when the model has no price row). A response
without usage leaves none of them, whatever an earlier attempt's had.
"""

from __future__ import annotations

from gateway.config.settings import GatewayConfig
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import response_cost, response_model, response_usage
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


# The variables of one response's figures: all of them go when another response replaces it.
FIGURES = (
    "llm-model",
    "llm-prompt-tokens",
    "llm-completion-tokens",
    "llm-total-tokens",
    "llm-cost",
)


class Accounting:
    def __init__(self, metrics: Metrics | None) -> None:
        self.metrics = metrics

    def forwarded(self, context: RequestContext) -> None:
        """Account a response the backend call just got, in place of any before it: now when
        it is whole (before outbound: its policies see the cost), once done when it streams."""
        self.figures(context, ready=context.response_stream is None)
        if self.done not in context.deferred.get(Phase.DONE, ()):  # once, however many calls
            context.defer(Phase.DONE, self.done)

    def figures(self, context: RequestContext, ready: bool = True) -> None:
        """The variables of the response's usage; none while it is not ready (a stream)."""
        variables = context.variables
        for name in FIGURES:
            variables.pop(name, None)
        usage = response_usage(context) if ready else None
        if usage is None:
            return
        variables["llm-model"] = response_model(context, usage)
        variables["llm-prompt-tokens"] = usage.prompt
        variables["llm-completion-tokens"] = usage.completion
        variables["llm-total-tokens"] = usage.total
        cost = response_cost(context)
        if cost is not None:
            variables["llm-cost"] = float(cost)

    async def done(self, context: RequestContext) -> None:
        """The last response's figures (a stream's are known only now), and its cost counted."""
        if context.response_stream is not None:
            self.figures(context)
        usage = response_usage(context)
        cost = response_cost(context)
        if self.metrics is not None and usage is not None and cost is not None:
            model = response_model(context, usage)
            self.metrics.add("aigw", "Cost", float(cost), _dimensions(context, model))


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
