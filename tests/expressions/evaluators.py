"""Every way an expression is evaluated (the closures that count nothing, the closures that
count every step, the reference interpreter): the tests of a finding hold all three to it."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions import Expression, ExpressionError, under_contract
from gateway.expressions.model import ContextModel
from gateway.expressions.program import Compiled
from tests.expressions.context_fixture import prepared_context

Evaluate = Callable[[ContextModel, int], object]


def evaluators(source: str) -> dict[str, Evaluate]:
    expression = Expression(source)
    ticking = Compiled(expression._tree).ticking
    return {
        "closures": lambda context, budget: expression.evaluate(context, budget=budget),
        "counting closures": lambda context, budget: under_contract(ticking, context, budget),
        "interpreter": lambda context, budget: expression.interpret(context, budget=budget),
    }


def outcomes(
    source: str, headers: dict[str, str] | None = None, budget: int = 100_000
) -> dict[str, tuple[str, object]]:
    """Each evaluator's ("value", v) or ("error", message) on a fresh prepared context with
    these request headers."""

    def prepare(context: ContextModel) -> None:
        for header, value in (headers or {}).items():
            context.Request.Headers.set(header, [value])

    return outcomes_on(source, prepare, budget)


def outcomes_on(
    source: str, prepare: Callable[[ContextModel], None], budget: int = 100_000
) -> dict[str, tuple[str, object]]:
    """Each evaluator's outcome on a fresh prepared context that `prepare` changed first."""
    found: dict[str, tuple[str, object]] = {}
    for name, evaluate in evaluators(source).items():
        context = prepared_context()
        prepare(context)
        try:
            found[name] = ("value", evaluate(context, budget))
        except ExpressionError as error:
            found[name] = ("error", error.message)
    return found


def same_outcome(source: str, headers: dict[str, str] | None = None) -> tuple[str, object]:
    """The one outcome all three give (an assertion error when they differ)."""
    found = outcomes(source, headers)
    assert len({repr(v) for v in found.values()}) == 1, found
    return next(iter(found.values()))
