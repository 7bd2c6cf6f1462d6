"""Fuzz target for policy expressions (gateway/expressions): parsed, checked, compiled into
both closure builds, and run beside the reference interpreter.

The property: text that is not an expression policy expressions accept is an
`ExpressionSyntaxError` from the parser or the name check, never the constructor's catch-all
for an unmapped edge ("cannot read this expression") nor any other exception; an expression
that compiles gives, by the closures, by the counting closures and by the interpreter, the
same value or the same `ExpressionError` and leaves the context alike, under a large budget
and a small one (tests/expressions/test_closures.py's oracle, on any text).
"""

from __future__ import annotations

import contextlib

from gateway.expressions import Expression, ExpressionSyntaxError, under_contract
from gateway.expressions.check import check_names
from gateway.expressions.parser import ParseError, parse
from gateway.expressions.program import Compiled
from tests.expressions.outcomes import Evaluate, outcome

BUDGETS = (7, 10_000)  # one that runs out mid-way, one that seldom does
# What Expression's constructor says of an exception the parser let out (a bug to map).
_UNMAPPED = "cannot read this expression ("


def source_of(data: bytes) -> str:
    """The input as an expression: text not written as one is taken as `@( text )`."""
    text = data.decode("utf-8", errors="replace")
    return text if text.startswith(("@(", "@{")) else f"@({text})"


def expression(data: bytes) -> None:
    source = source_of(data)
    # First as Expression's constructor does, so that an unmapped failure shows its place (a
    # syntax error, or nesting too deep, it maps to ExpressionSyntaxError).
    with contextlib.suppress(ParseError, RecursionError):
        check_names(parse(source))
    try:
        compiled = Expression(source)
    except ExpressionSyntaxError as error:
        assert not error.message.startswith(_UNMAPPED), error.message
        assert 0 <= error.offset <= len(source), (error.offset, len(source))
        return
    ticking = Compiled(compiled._tree).ticking
    builds: dict[str, Evaluate] = {
        "closures": lambda context, budget: compiled.evaluate(context, budget=budget),
        "counting closures": lambda context, budget: under_contract(ticking, context, budget),
    }
    for budget in BUDGETS:
        expected = outcome(lambda context, b: compiled.interpret(context, budget=b), source, budget)
        for name, evaluate in builds.items():
            got = outcome(evaluate, source, budget)
            assert got == expected, f"budget {budget}: {name} {got}, interpreter {expected}"
