"""What a call cost: its real usage priced by the price table, in exact decimals.

The table ships with the package (gateway/tokens/prices.csv, each row dated with its public
source) and is never fetched; it is read once, when the gateway loads, never per request.
gateway.yaml's `pricing` rows add to it or replace rows for the same provider and model. A
model matches the row with the longest model-name prefix (`gpt-4o-2024-08-06` is priced as
`gpt-4o`, `gpt-4o-mini-...` as `gpt-4o-mini`), after any `org/` prefix is dropped.

A model with no row has no price; `PriceTable.dearest` is what gateway.yaml's
`limits.unpriced-models: dearest` counts it at: the dearest prompt and output rates of any row
of the provider (of the whole table when the provider has none).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from gateway.tokens.usage import Usage

MILLION = Decimal(1_000_000)
# A price's rates, each in dollars per million tokens (None: the input or output rate applies).
RATES = (
    "input",
    "cached_input",
    "cache_write",
    "output",
    "reasoning",
    "audio_input",
    "audio_output",
)


# The last price and usage priced, and what it came to: a call is priced three times (its
# `llm-cost` variable, the cost metric, its ledger record), each time the same Price and the
# same Usage object (both immutable; kept here, neither can be freed and its address reused).
_last_cost: tuple[object, object, Decimal] = (None, None, Decimal(0))


@dataclass(frozen=True, slots=True)
class Price:
    provider: str
    model: str
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None
    audio_input: Decimal | None = None
    audio_output: Decimal | None = None
    date: str = ""
    source: str = ""
    dearest: bool = False  # not the model's own price: the dearest rates, for one without

    @classmethod
    def of(
        cls,
        provider: str,
        model: str,
        input: object,
        output: object,
        cached_input: object = None,
        cache_write: object = None,
        reasoning: object = None,
        date: str = "",
        audio_input: object = None,
        audio_output: object = None,
        source: str = "",
    ) -> Price:
        """A price from numbers or their text (dollars per million tokens; None or "": none)."""
        return cls(
            provider,
            model,
            Decimal(str(input).strip()),
            Decimal(str(output).strip()),
            _decimal(cached_input),
            _decimal(cache_write),
            _decimal(reasoning),
            _decimal(audio_input),
            _decimal(audio_output),
            date,
            source,
        )

    def cost(self, usage: Usage) -> Decimal:
        """Dollars for this usage: each kind of token at its own price."""
        global _last_cost
        last = _last_cost
        if last[1] is usage and last[0] is self:  # the same call priced again (see _last_cost)
            return last[2]
        dollars = self._cost(usage)
        _last_cost = (self, usage, dollars)
        return dollars

    def _cost(self, usage: Usage) -> Decimal:
        if not (
            usage.cached_prompt
            or usage.cache_write
            or usage.audio_prompt
            or usage.reasoning
            or usage.audio_completion
        ):  # most calls: plain tokens only, two Decimal products instead of seven
            return (usage.prompt * self.input + usage.completion * self.output) / MILLION
        fresh_prompt = usage.prompt - usage.cached_prompt - usage.cache_write - usage.audio_prompt
        plain_output = usage.completion - usage.reasoning - usage.audio_completion
        dollars = (
            max(fresh_prompt, 0) * self.input
            + usage.cached_prompt * _or(self.cached_input, self.input)
            + usage.cache_write * _or(self.cache_write, self.input)
            + usage.audio_prompt * _or(self.audio_input, self.input)
            + max(plain_output, 0) * self.output
            + usage.reasoning * _or(self.reasoning, self.output)
            + usage.audio_completion * _or(self.audio_output, self.output)
        )
        return dollars / MILLION

    def ceiling(self, prompt: int, output: int) -> Decimal:
        """The most `prompt` and `output` tokens can cost, at the dearest rate of each kind."""
        return (prompt * self.prompt_rate + output * self.output_rate) / MILLION

    @property
    def prompt_rate(self) -> Decimal:
        """The dearest rate of any prompt token."""
        rates = (self.cache_write, self.audio_input)
        return max([self.input, *(rate for rate in rates if rate is not None)])

    @property
    def output_rate(self) -> Decimal:
        """The dearest rate of any output token."""
        rates = (self.reasoning, self.audio_output)
        return max([self.output, *(rate for rate in rates if rate is not None)])


def _or(price: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if price is None else price


def _decimal(text: object) -> Decimal | None:
    return None if text is None or str(text).strip() == "" else Decimal(str(text).strip())


def shipped_prices() -> list[Price]:
    text = resources.files("gateway.tokens").joinpath("prices.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [
        Price.of(
            row["provider"],
            row["model"],
            row["input"],
            row["output"],
            row["cached_input"],
            row["cache_write"],
            row["reasoning"],
            row["date"],
            row["audio_input"],
            row["audio_output"],
            row["source"],
        )
        for row in rows
    ]


class PriceTable:
    def __init__(self, extra: Iterable[Price] = ()) -> None:
        """The shipped prices, with `extra` rows (gateway.yaml's `pricing`) added or winning."""
        self._rows: dict[tuple[str, str], Price] = {
            (p.provider, p.model.lower()): p for p in [*shipped_prices(), *extra]
        }
        self._found: dict[tuple[str, str], Price | None] = {}
        self._dearest: dict[str, Price] = {}

    def rows(self) -> list[Price]:
        """Every row in use, by provider and model."""
        return sorted(self._rows.values(), key=lambda price: (price.provider, price.model))

    def prices(self, provider: str) -> bool:
        """Whether any row prices a model of `provider`."""
        return any(row_provider == provider for row_provider, _ in self._rows)

    def dearest(self, provider: str) -> Price:
        """The dearest prompt and output rates of `provider`'s rows (of every row when it has
        none): what a model with no row counts at, so that it never counts less than it cost."""
        if provider not in self._dearest:
            rows = [price for (owner, _), price in self._rows.items() if owner == provider]
            rows = rows or list(self._rows.values())
            self._dearest[provider] = Price(
                provider,
                "",
                max((price.prompt_rate for price in rows), default=Decimal(0)),
                max((price.output_rate for price in rows), default=Decimal(0)),
                dearest=True,
            )
        return self._dearest[provider]

    def find(self, provider: str, model: str) -> Price | None:
        """The row for a provider's model (cached: a gateway sees a handful of models)."""
        key = (provider, model)
        if key not in self._found:
            if len(self._found) > 10_000:  # model names come from responses: keep it bounded
                self._found.clear()
            self._found[key] = self._lookup(provider, model)
        return self._found[key]

    def _lookup(self, provider: str, model: str) -> Price | None:
        wanted = model.lower().rsplit("/", 1)[-1]
        candidates = [
            price
            for (row_provider, row_model), price in self._rows.items()
            if row_provider == provider and wanted.startswith(row_model)
        ]
        return max(candidates, key=lambda price: len(price.model), default=None)
