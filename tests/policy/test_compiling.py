"""A condition written as a literal is decided at load; what a request then gets is what
evaluating it per request gave: the bool, or the policy error of a text that is no bool."""

from __future__ import annotations

import pytest

from gateway.common.diagnostics import Location, Report
from gateway.expressions import compile_expression
from gateway.expressions.model import ContextModel
from gateway.policy.compiling import CompileContext
from gateway.policy.tree import Value
from gateway.runtime.context import RequestContext
from gateway.runtime.step import Chain, PolicyError

HERE = Location("policy.xml")


def _context() -> CompileContext:
    return CompileContext(
        report=Report(),
        compile_chain=lambda nodes: Chain(),
        compile_expression=lambda value: compile_expression(value.text),
        resolve_literal=lambda text: text,
        statement="choose",
    )


@pytest.mark.parametrize("text", ["true", "False", "TRUE", "false"])
def test_a_literal_condition_is_its_truth(text: str) -> None:
    condition = _context().condition(Value(text, HERE))
    expression = _context().condition(Value(f'@("{text}")', HERE, is_expression=True))
    request = RequestContext(ContextModel())
    assert condition(request) is expression(request) is (text.lower() == "true")


def test_a_literal_that_is_no_bool_fails_each_request_as_before() -> None:
    condition = _context().condition(Value("maybe", HERE))  # loads
    with pytest.raises(PolicyError, match="expected a bool") as error:
        condition(RequestContext(ContextModel()))
    assert (error.value.source, error.value.reason) == (
        "choose",
        "ExpressionValueEvaluationFailure",
    )


def test_no_value_is_the_default() -> None:
    request = RequestContext(ContextModel())
    assert _context().condition(None, True)(request) is True
    assert _context().condition(None)(request) is False


def test_an_expression_condition_fails_as_an_expression_value_does() -> None:
    """A condition calls its expression itself (not through `value`): the same errors."""
    context = _context()
    context.policy_id = "p1"
    failing = Value('@(context.Variables["absent"] == "x")', HERE, is_expression=True)
    request = RequestContext(ContextModel())
    errors = []
    for evaluate in (context.value(failing), context.condition(failing)):
        with pytest.raises(PolicyError) as error:
            evaluate(request)
        errors.append((error.value.source, error.value.reason, error.value.message))
        assert error.value.policy_id == "p1"
    assert errors[0] == errors[1]
    assert errors[0][2].startswith("Expression evaluation failed. ")
    text = context.condition(Value('@("True")', HERE, is_expression=True))
    assert text(request) is True  # a text that is a bool, as truthy reads it
    number = context.condition(Value("@(1)", HERE, is_expression=True))
    with pytest.raises(PolicyError, match="expected a bool") as error:
        number(request)
    assert error.value.policy_id is None  # as before: a value that is no bool names none
