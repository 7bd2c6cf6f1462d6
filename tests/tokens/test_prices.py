"""The bundled price table: every provider kind the gateway accepts has rows, each dated with
its public source, every rate a non-negative number; and what a model with no row counts at."""

from __future__ import annotations

import re
import typing
from decimal import Decimal

from gateway.config.backends import Provider
from gateway.tokens.prices import RATES, Price, PriceTable, shipped_prices
from gateway.tokens.usage import Usage

# Provider kinds that name no one's prices: any OpenAI-shaped service, any HTTP service.
UNPRICEABLE = {"openai-compatible", "http"}


def test_every_provider_kind_has_rows() -> None:
    kinds = set(typing.get_args(Provider)) - UNPRICEABLE
    assert kinds == {p.provider for p in shipped_prices()}


def test_every_row_has_a_source_a_date_and_non_negative_rates() -> None:
    rows = shipped_prices()
    assert len({(p.provider, p.model) for p in rows}) == len(rows)  # no row twice
    for price in rows:
        assert price.source.startswith("https://"), price
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", price.date), price
        for rate in RATES:
            value = getattr(price, rate)
            assert value is None or (isinstance(value, Decimal) and value >= 0), (price, rate)


def test_a_model_matches_its_longest_prefix_without_its_org() -> None:
    table = PriceTable()
    assert table.find("openai", "gpt-5.4-mini-2026-03-01").model == "gpt-5.4-mini"
    assert table.find("deepinfra", "meta-llama/Llama-3.3-70B-Instruct").model == (
        "llama-3.3-70b-instruct"
    )
    assert table.find("openai", "no-such-model") is None


def test_the_dearest_rates_are_the_providers_own_else_the_whole_tables() -> None:
    extra = Price.of("xai", "gold", 100, 900, cache_write=None, date="2026-12-01")
    table = PriceTable([extra])
    dearest = table.dearest("xai")
    assert (dearest.input, dearest.output, dearest.dearest) == (100, 900, True)
    anywhere = table.dearest("openai-compatible")  # no rows of its own: every row's
    assert anywhere.input == max(p.prompt_rate for p in table.rows())
    assert anywhere.output == max(p.output_rate for p in table.rows())


def test_audio_tokens_cost_their_own_rates() -> None:
    price = Price.of("gemini", "m", 1, 10, audio_input=4, audio_output=40)
    usage = Usage(prompt=100, completion=10, audio_prompt=50, audio_completion=5)
    assert price.cost(usage) == Decimal(50 * 1 + 50 * 4 + 5 * 10 + 5 * 40) / 1_000_000


def test_pricing_again_gives_each_price_and_usage_its_own_cost() -> None:
    cheap = Price.of("openai", "m", "1", "2")
    dear = Price.of("openai", "m", "10", "20")
    usage, other = Usage(prompt=1000, completion=500), Usage(prompt=1000, completion=500)
    small = Usage(prompt=10, completion=5)
    for _ in range(2):  # the second round, each the same call priced again
        assert cheap.cost(usage) == Decimal("0.002")
        assert dear.cost(usage) == Decimal("0.02")
        assert cheap.cost(other) == Decimal("0.002")
        assert cheap.cost(small) == Decimal("0.00002")
        assert cheap.cost(small) == Decimal("0.00002")
