"""What a call cost: its real usage priced by the price table, in exact decimals.

The table ships with the package (gateway/tokens/prices.csv, each row dated) and is never
fetched; gateway.yaml's `pricing` rows add to it or replace rows for the same provider and
model. A model matches the row with the longest model-name prefix (`gpt-4o-2024-08-06` is
priced as `gpt-4o`, `gpt-4o-mini-...` as `gpt-4o-mini`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from gateway.config.model import PriceRow
from gateway.tokens.usage import Usage

MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Price:
    provider: str
    model: str
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None
    date: str = ""

    def cost(self, usage: Usage) -> Decimal:
        """Dollars for this usage: each kind of token at its own price."""
        fresh_prompt = usage.prompt - usage.cached_prompt - usage.cache_write
        plain_output = usage.completion - usage.reasoning
        dollars = (
            fresh_prompt * self.input
            + usage.cached_prompt * _or(self.cached_input, self.input)
            + usage.cache_write * _or(self.cache_write, self.input)
            + plain_output * self.output
            + usage.reasoning * _or(self.reasoning, self.output)
        )
        return dollars / MILLION

    def ceiling(self, prompt: int, output: int) -> Decimal:
        """The most `prompt` and `output` tokens can cost, at the dearest rate of each kind."""
        prompt_rate = max(self.input, _or(self.cache_write, self.input))
        output_rate = max(self.output, _or(self.reasoning, self.output))
        return (prompt * prompt_rate + output * output_rate) / MILLION


def _or(price: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if price is None else price


def _decimal(text: object) -> Decimal | None:
    return None if text is None or str(text).strip() == "" else Decimal(str(text).strip())


def shipped_prices() -> list[Price]:
    text = resources.files("gateway.tokens").joinpath("prices.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [
        Price(
            provider=row["provider"],
            model=row["model"],
            input=Decimal(row["input"]),
            output=Decimal(row["output"]),
            cached_input=_decimal(row["cached_input"]),
            cache_write=_decimal(row["cache_write"]),
            reasoning=_decimal(row["reasoning"]),
            date=row["date"],
        )
        for row in rows
    ]


class PriceTable:
    def __init__(self, extra: tuple[PriceRow, ...] = ()) -> None:
        self._rows: dict[tuple[str, str], Price] = {
            (p.provider, p.model.lower()): p for p in shipped_prices()
        }
        self._found: dict[tuple[str, str], Price | None] = {}
        for row in extra:  # gateway.yaml's rows win
            self._rows[(row.provider, row.model.lower())] = Price(
                row.provider,
                row.model,
                Decimal(str(row.input)),
                Decimal(str(row.output)),
                _decimal(row.cached_input),
                _decimal(row.cache_write),
                _decimal(row.reasoning),
                row.date,
            )

    def find(self, provider: str, model: str) -> Price | None:
        """The row for a provider's model (cached: a gateway sees a handful of models)."""
        key = (provider, model)
        if key not in self._found:
            if len(self._found) > 10_000:  # model names come from answers: keep it bounded
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
