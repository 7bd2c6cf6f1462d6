"""Comparisons against a constant and `&&`/`||`, compiled to direct comparisons where the
values allow: every evaluator gives the same value or the same error, whatever the value
compared turns out to be."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.expressions.values import JValue, Long
from tests.expressions.evaluators import outcomes_on

VALUES = [429, 500, 501, -1, Long(500), True, False, 500.0, 499.5, Decimal("500"), "500", "1",
          "", None, JValue(500), JValue("1"), [1], "true"]  # fmt: skip
CONDITIONS = [
    '@(context.Variables["v"] == 429)',
    '@(context.Variables["v"] != 429)',
    '@(context.Variables["v"] >= 500)',
    '@(context.Variables["v"] < 500)',
    '@(context.Variables["v"] > 500)',
    '@(context.Variables["v"] <= 500)',
    '@(context.Variables["v"] == "1")',
    '@(context.Variables["v"] != "1")',
    '@(context.Variables["v"] < "1")',
    '@(context.Variables["v"] == true)',
    '@(context.Variables["v"] == 429 || context.Variables["v"] >= 500)',
    '@(context.Variables["v"] && context.Variables["v"])',
    '@(context.Variables["v"] || false)',
    '@(false || context.Variables["v"])',
    '@(true && context.Variables["v"])',
    '@(context.Variables["v"] != 429 && context.Variables["v"] < 500)',
]


def _outcomes(source: str, value: object) -> dict[str, tuple[str, object]]:
    return outcomes_on(source, lambda context: context.Variables.__setitem__("v", value))


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("source", CONDITIONS)
def test_a_comparison_gives_what_the_interpreter_gives_for_any_value(
    source: str, value: object
) -> None:
    found = _outcomes(source, value)
    assert len({repr(v) for v in found.values()}) == 1, found


def test_the_direct_comparisons_keep_csharp_types() -> None:
    # A bool is not an int (C# cannot compare them), a long still compares by value.
    assert _outcomes('@(context.Variables["v"] >= 500)', True)["closures"][0] == "error"
    assert _outcomes('@(context.Variables["v"] >= 500)', Long(500))["closures"] == ("value", True)
    assert _outcomes('@(context.Variables["v"] == "500")', 500)["closures"] == ("value", True)
