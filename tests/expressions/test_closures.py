"""The compiled closures give what the reference interpreter gives: the same value or the same
error, the same effects on the context, and the same step budget, on every expression the
repository holds and on generated ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.expressions import (
    DEFAULT_BUDGET,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    under_contract,
)
from gateway.expressions import ast as A
from gateway.expressions.program import Compiled, max_steps
from tests.expressions.context_fixture import prepared_context
from tests.expressions.expression_sources import (
    HAND_WRITTEN,
    corpus_expressions,
    suite_expressions,
)
from tests.expressions.outcomes import Evaluate, outcome


def _compiled_sources() -> list[Expression]:
    expressions, seen = [], set()
    for source in [*HAND_WRITTEN, *suite_expressions(), *corpus_expressions()]:
        if source in seen:
            continue
        seen.add(source)
        try:
            expressions.append(Expression(source))
        except ExpressionSyntaxError:
            continue
    return expressions


EXPRESSIONS = _compiled_sources()


def _by_closures(expression: Expression) -> Evaluate:
    return lambda context, budget: expression.evaluate(context, budget=budget)


def _by_interpreter(expression: Expression) -> Evaluate:
    return lambda context, budget: expression.interpret(context, budget=budget)


def _by_evaluator(expression: Expression) -> Evaluate:
    """What a statement calls per request: `evaluate` at the default budget, decided at load."""
    evaluate = expression.evaluator()
    return lambda context, budget: evaluate(context)


def _by_ticking_closures(expression: Expression) -> Evaluate:
    compiled = Compiled(expression._tree)
    return lambda context, budget: under_contract(compiled.ticking, context, budget)


def mismatches(budget: int, closures: Callable[[Expression], Evaluate]) -> list[str]:
    wrong = []
    for expression in EXPRESSIONS:
        expected = outcome(_by_interpreter(expression), expression.source, budget)
        got = outcome(closures(expression), expression.source, budget)
        if got != expected:
            wrong.append(f"{expression.source[:120]}\n  interpreter {expected}\n  closures {got}")
    return wrong


def test_the_sources_are_many_and_reach_every_node_type() -> None:
    reached = {type(node) for e in EXPRESSIONS for node in A.walk(e._tree)}
    every = {
        kind
        for kind in vars(A).values()
        if isinstance(kind, type) and issubclass(kind, A.Node) and kind is not A.Node
    }
    assert sorted(k.__name__ for k in every - reached) == [], "add sources that use these"
    assert len(EXPRESSIONS) > 700  # distinct ones that compile


def test_closures_agree_with_the_interpreter() -> None:
    assert mismatches(100_000, _by_closures) == []


def test_the_statement_evaluator_agrees_with_the_interpreter() -> None:
    assert mismatches(DEFAULT_BUDGET, _by_evaluator) == []


def test_the_counting_build_agrees_with_the_interpreter() -> None:
    assert mismatches(100_000, _by_ticking_closures) == []


@pytest.mark.parametrize("budget", [0, 1, 2, 3, 5, 8, 13, 21, 40, 90, 250])
def test_small_budgets_run_out_at_the_same_step(budget: int) -> None:
    assert mismatches(budget, _by_closures) == []


def test_a_loop_without_end_is_stopped_after_as_many_iterations() -> None:
    source = '@{ var a = (JArray)context.Variables["routes"]; while (true) { a.Add(1); } }'
    expression = Expression(source)
    for budget in (1_000, 100_000):
        contexts = [prepared_context(), prepared_context()]
        for context, evaluate in zip(
            contexts, (expression.evaluate, expression.interpret), strict=True
        ):
            with pytest.raises(ExpressionError, match="step budget is spent"):
                evaluate(context, budget=budget)
        lengths = [len(c.Variables["routes"].items) for c in contexts]  # type: ignore[attr-defined]
        assert lengths[0] == lengths[1] > budget // 10


def test_steps_are_bounded_only_without_loops_or_lambdas() -> None:
    assert max_steps(Expression("@(1 + 2)")._tree) == 3
    assert max_steps(Expression("@{ int x = 1; x += 2; return x; }")._tree) is not None
    assert max_steps(Expression("@(new[] { 1 }.Select(x => x))")._tree) is None
    assert max_steps(Expression("@{ while (true) { } }")._tree) is None


_NUMBERS = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(-100, 100, allow_nan=False).map(lambda f: f"{f!r}".replace("e", "E")),
    st.sampled_from(["context.Response.StatusCode", '(int)context.Variables["routeIndex"]']),
)
_STRINGS = st.one_of(
    st.text("ab -x", max_size=4).map(lambda s: f'"{s}"'),
    st.sampled_from(["context.Api.Id", "context.Request.Method", "null"]),
)


def _combine(parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        parts, st.sampled_from("+ - * / % == != < > <= >= & | ^".split()), parts
    ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "!", "~", "+"]), parts).map(lambda t: f"{t[0]}{t[1]}")
    conditional = st.tuples(parts, parts, parts).map(
        lambda t: f"({t[0]} == {t[1]} ? {t[1]} : {t[2]})"
    )
    method = st.tuples(parts, st.integers(0, 4)).map(
        lambda t: f"{t[0]}.ToString().Substring({t[1]})"
    )
    return st.one_of(binary, unary, conditional, method)


GENERATED = st.recursive(st.one_of(_NUMBERS, _STRINGS), _combine, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(GENERATED, st.sampled_from([3, 10, 100_000]))
def test_generated_expressions_agree(body: str, budget: int) -> None:
    try:
        expression = Expression(f"@({body})")
    except ExpressionSyntaxError:
        return
    expected = outcome(_by_interpreter(expression), expression.source, budget)
    assert outcome(_by_closures(expression), expression.source, budget) == expected
    assert outcome(_by_ticking_closures(expression), expression.source, budget) == expected
