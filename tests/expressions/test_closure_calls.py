"""Calls compiled with what their shape fixes decided at load: a header read with constant
arguments looks the header up directly; every evaluator still agrees on the value or error."""

from __future__ import annotations

import pytest

from gateway.expressions.model import ContextModel
from tests.expressions.evaluators import outcomes_on

HEADERS = [
    {},
    {"X-Slow": "1"},
    {"x-slow": ""},
    {"x-slow": "1,2"},
]
CALLS = [
    '@(context.Request.Headers.GetValueOrDefault("x-slow", "") == "1")',
    '@(context.Request.Headers.GetValueOrDefault("X-SLOW", "none"))',
    '@(context.Request.Headers.GetValueOrDefault("x-slow"))',
    '@(context.Request.Headers.GetValueOrDefault("x-slow", 7))',
    '@(context.Request.Headers.GetValueOrDefault("x-slow", "", "extra"))',
    '@(context.Request.Headers.GetValueOrDefault(1, "one"))',
    '@(context.Variables.GetValueOrDefault("x-slow", "from variables"))',
    '@(context.Request.Url.Path.GetValueOrDefault("x-slow", ""))',
    '@(context.LastError?.Message.GetValueOrDefault("x-slow", ""))',
    '@(context.Response.Headers.GetValueOrDefault("x-slow", "-"))',
]


def _outcomes(source: str, headers: dict[str, str]) -> dict[str, tuple[str, object]]:
    def prepare(context: ContextModel) -> None:
        context.LastError = None
        context.Variables["x-slow"] = "variable"
        for header, value in headers.items():
            context.Request.Headers.set(header, value.split(","))

    return outcomes_on(source, prepare)


@pytest.mark.parametrize("source", CALLS)
def test_a_header_read_gives_what_the_interpreter_gives(source: str) -> None:
    for headers in HEADERS:
        found = _outcomes(source, headers)
        assert len({repr(v) for v in found.values()}) == 1, (headers, found)


def test_a_header_read_joins_values_and_ignores_case() -> None:
    source = '@(context.Request.Headers.GetValueOrDefault("X-Slow", "-"))'
    assert _outcomes(source, {"x-slow": "1,2"})["closures"] == ("value", "1,2")
    assert _outcomes(source, {})["closures"] == ("value", "-")
