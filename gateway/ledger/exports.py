"""Providers' usage and cost exports (CSV), read as totals per UTC day and model.

The columns are those of the providers' usage and cost reports, one row per time bucket
(and model), flattened as their dashboards' CSV exports and the Admin APIs' JSON have them:

- OpenAI usage (`/v1/organization/usage/completions`, bucket 1d, grouped by model):
  `start_time` (Unix seconds or a date), `model`, `input_tokens` (cached ones included),
  `input_cached_tokens`, `output_tokens`, `num_model_requests`.
- OpenAI costs (`/v1/organization/costs`, grouped by line item): `start_time`, `line_item`
  (`"<model>, input"`), `amount_value` (dollars), `amount_currency`.
- Anthropic usage (`/v1/organizations/usage_report/messages`, grouped by model): `starting_at`
  (RFC 3339), `model`, `uncached_input_tokens`, `cache_read_input_tokens`,
  `cache_creation_ephemeral_5m_input_tokens`, `cache_creation_ephemeral_1h_input_tokens`,
  `output_tokens`.
- Anthropic costs (`/v1/organizations/cost_report`, grouped by description): `starting_at`,
  `model`, `cost_type`, `token_type`, `currency`, `amount` (cents, as a decimal string).

Which format a file is, is read from its header.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

FORMATS = ("openai-usage", "openai-costs", "anthropic-usage", "anthropic-costs")
PROVIDER_OF = {
    "openai-usage": "openai",
    "openai-costs": "openai",
    "anthropic-usage": "anthropic",
    "anthropic-costs": "anthropic",
}


@dataclass
class Totals:
    """A day and model's figures in an export; None: the export does not say."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: Decimal | None = None


@dataclass
class Export:
    format: str
    totals: dict[tuple[str, str], Totals] = field(default_factory=dict)

    @property
    def provider(self) -> str:
        return PROVIDER_OF[self.format]

    def at(self, day: str, model: str) -> Totals:
        return self.totals.setdefault((day, model), Totals())


def detect(header: list[str]) -> str:
    names = set(header)
    if "num_model_requests" in names:
        return "openai-usage"
    if "line_item" in names:
        return "openai-costs"
    if "uncached_input_tokens" in names:
        return "anthropic-usage"
    if {"starting_at", "amount"} <= names:
        return "anthropic-costs"
    raise ValueError(
        "not a known usage or cost export (its header names none of num_model_requests, "
        "line_item, uncached_input_tokens, amount)"
    )


def read_export(text: str) -> Export:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    export = Export(detect(list(reader.fieldnames or [])))
    read = _READERS[export.format]
    for number, row in enumerate(reader, start=2):
        try:
            read(export, row)
        except (KeyError, ValueError, ArithmeticError) as error:
            raise ValueError(f"line {number}: {type(error).__name__}: {error}") from None
    return export


def _day(value: str) -> str:
    value = value.strip()
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d")


def _int(row: dict[str, str], name: str) -> int:
    value = (row.get(name) or "").strip()
    return int(value) if value else 0


def _add_tokens(totals: Totals, prompt: int, completion: int) -> None:
    totals.prompt_tokens = (totals.prompt_tokens or 0) + prompt
    totals.completion_tokens = (totals.completion_tokens or 0) + completion


def _add_cost(totals: Totals, dollars: Decimal) -> None:
    totals.cost = (totals.cost or Decimal(0)) + dollars


def _openai_usage(export: Export, row: dict[str, str]) -> None:
    totals = export.at(_day(row["start_time"]), row["model"].strip())
    _add_tokens(totals, _int(row, "input_tokens"), _int(row, "output_tokens"))


def _openai_costs(export: Export, row: dict[str, str]) -> None:
    model = row["line_item"].split(",", 1)[0].strip()
    _add_cost(export.at(_day(row["start_time"]), model), Decimal(row["amount_value"].strip()))


def _anthropic_usage(export: Export, row: dict[str, str]) -> None:
    prompt = sum(
        _int(row, name)
        for name in (
            "uncached_input_tokens",
            "cache_read_input_tokens",
            "cache_creation_ephemeral_5m_input_tokens",
            "cache_creation_ephemeral_1h_input_tokens",
        )
    )
    totals = export.at(_day(row["starting_at"]), row["model"].strip())
    _add_tokens(totals, prompt, _int(row, "output_tokens"))


def _anthropic_costs(export: Export, row: dict[str, str]) -> None:
    model = (row.get("model") or "").strip()
    if not model:  # web search, code execution: not a model's tokens
        return
    cents = Decimal(row["amount"].strip())
    _add_cost(export.at(_day(row["starting_at"]), model), cents / 100)


_READERS = {
    "openai-usage": _openai_usage,
    "openai-costs": _openai_costs,
    "anthropic-usage": _anthropic_usage,
    "anthropic-costs": _anthropic_costs,
}
