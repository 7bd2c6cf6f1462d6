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

from decimal import Decimal

from gateway.config.settings import GatewayConfig
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import price_of, response_model, response_usage
from gateway.runtime.services import Metrics
from gateway.tokens.prices import Price, PriceTable
from gateway.tokens.usage import Usage

_STYLE_PROVIDERS = frozenset({"openai", "azure-openai", "anthropic"})


class Prices:
    """The price of a model where a call goes (the runtime's `Prices` service): at its
    backend's provider, for the name the backend knows the model by (its `models`); for a pool
    not yet down to one member, the dearest rates of its members; with no backend, by the
    API's style. A model with no price there is priced as `limits.unpriced-models` says: the
    dearest rates of its provider (refuse, dearest) or none (allow)."""

    def __init__(self, config: GatewayConfig, table: PriceTable) -> None:
        self.backends = config.backends
        self.styles = {a.id: a.style for a in config.apis.values()}
        self.table = table
        self.unpriced = config.limits.unpriced_models
        # Each call asks twice (its variables, its metric); a gateway sees a handful of
        # (backend, API, model) triples, and nothing here changes while it runs.
        self._prices: dict[tuple[str, str, str], Price | None] = {}

    def price(self, backend: str, api: str, model: str) -> Price | None:
        key = (backend, api, model)
        try:
            return self._prices[key]
        except KeyError:
            if len(self._prices) > 10_000:  # model names come from responses: keep it bounded
                self._prices.clear()
            found = self._prices[key] = self._price(backend, api, model)
            return found

    def _price(self, backend: str, api: str, model: str) -> Price | None:
        found = self.own_price(backend, api, model)
        if found is not None or self.unpriced == "allow":
            return found
        dearest = [self.table.dearest(p) for p in self.providers(backend, api)]
        return _upper(dearest, model)

    def own_price(self, backend: str, api: str, model: str) -> Price | None:
        """The price table's price (None: the model has none where the call may go)."""
        entry = self.backends.get(backend)
        if entry is None or entry.pool is None:
            served = entry.models.get(model, model) if entry is not None else model
            return self.table.find(self.providers(backend, api)[0], served)
        members = [self.own_price(m.backend, api, model) for m in entry.pool.services]
        if not members or None in members:
            return None
        return _upper([m for m in members if m is not None], model)

    def providers(self, backend: str, api: str) -> list[str]:
        """The providers a call to `backend` may reach (a pool's members')."""
        entry = self.backends.get(backend)
        if entry is None:
            style = self.styles.get(api, "openai")
            return [style if style in _STYLE_PROVIDERS else "openai"]
        if entry.pool is None:
            return [entry.provider]
        return [p for m in entry.pool.services for p in self.providers(m.backend, api)] or [""]


def _upper(prices: list[Price], model: str) -> Price:
    """One price at the dearest prompt and output rates of `prices` (a pool's members')."""
    if len(prices) == 1:
        return prices[0]
    return Price(
        prices[0].provider,
        model,
        max((p.prompt_rate for p in prices), default=Decimal(0)),
        max((p.output_rate for p in prices), default=Decimal(0)),
        dearest=any(p.dearest for p in prices),
    )


# The variables of one response's figures: all of them go when another response replaces it.
FIGURES = (
    "llm-model",
    "llm-prompt-tokens",
    "llm-completion-tokens",
    "llm-total-tokens",
    "llm-cost",
)


# A response's usage, the model that served it and its price there (None: it has none).
Figures = tuple[Usage, str, Price | None]


class Accounting:
    def __init__(self, metrics: Metrics | None) -> None:
        self.metrics = metrics

    def forwarded(self, context: RequestContext) -> None:
        """Account a response the backend call just got, in place of any before it: now when
        it is whole (before outbound: its policies see the cost), once done when it streams."""
        self.figures(context, ready=context.response_stream is None)
        if self.done not in context.deferred.get(Phase.DONE, ()):  # once, however many calls
            context.defer(Phase.DONE, self.done)

    def figures(self, context: RequestContext, ready: bool = True) -> Figures | None:
        """The variables of the response's usage; none while it is not ready (a stream).
        Returns the usage, the model that served it and its price (None: no usage)."""
        variables = context.variables
        for name in FIGURES:
            variables.pop(name, None)
        usage = response_usage(context) if ready else None
        if usage is None:
            return None
        model = response_model(context, usage)
        variables["llm-model"] = model
        variables["llm-prompt-tokens"] = usage.prompt
        variables["llm-completion-tokens"] = usage.completion
        variables["llm-total-tokens"] = usage.prompt + usage.completion
        price = price_of(context, model)
        if price is not None:
            variables["llm-cost"] = float(price.cost(usage))
        return usage, model, price

    def done(self, context: RequestContext) -> None:
        """The last response's figures (a stream's are known only now), and its cost counted."""
        if context.response_stream is not None:
            figures = self.figures(context)
            if self.metrics is None or figures is None:
                return
            usage, model, price = figures
        else:
            usage = response_usage(context)
            if self.metrics is None or usage is None:
                return
            model = response_model(context, usage)
            price = price_of(context, model)
        dimensions = _dimensions(context, model)
        if price is not None:
            self.metrics.add("aigw", "Cost", float(price.cost(usage)), dimensions)
        if price is None or price.dearest:  # the model has no price of its own: say so
            self.metrics.add("aigw", "unpriced_calls", 1, dimensions)


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
