"""What a statement's `compile` function receives: helpers to compile values and child chains.

Compilation happens once, at load. Expressions are parsed here and never again; named values
are substituted here; a request only calls the evaluators and steps built here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from gateway.common.diagnostics import Location, Report
from gateway.expressions import (
    ContextModel,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
)
from gateway.expressions.values import truthy
from gateway.policy.tree import Node, Value
from gateway.runtime.step import Chain, PolicyError

if TYPE_CHECKING:
    from gateway.runtime.context import RequestContext

Evaluator = Callable[["RequestContext"], object]


# A CompileFailure with this rule is not reported again: a reference check already did.
UNRESOLVED_REFERENCE = "unresolved-reference"


class CompileFailure(Exception):
    """A statement could not be compiled; the compiler turns it into a diagnostic."""

    def __init__(self, location: Location, rule: str, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.rule = rule
        self.message = message


def constant(value: object) -> Evaluator:
    def evaluate(_: RequestContext) -> object:
        return value

    return evaluate


def _evaluation_failed(source: str, policy_id: str | None, error: ExpressionError) -> PolicyError:
    return PolicyError(
        source,
        "ExpressionValueEvaluationFailure",
        f"Expression evaluation failed. {error.message}",
        status=500,
        policy_id=policy_id,
    )


def _truth(result: object, source: str) -> bool:
    """A condition's value as a bool; a value that is none, the statement's policy error."""
    if result.__class__ is bool:  # what nearly every condition gives: as truthy would
        return result  # type: ignore[return-value]
    try:
        return truthy(result)
    except ExpressionError as error:
        raise PolicyError(
            source, "ExpressionValueEvaluationFailure", error.message, status=500
        ) from None


@dataclass
class CompileContext:
    """Per-document compile state handed to every statement's `compile`.

    `resolve_literal` substitutes named values in literal text; `compile_expression` returns
    the parsed expression (or its syntax error) for an expression value, with named values
    already substituted; `compile_chain` compiles nested statements (`<when>`, `<retry>`).
    """

    report: Report
    compile_chain: Callable[[list[Node]], Chain]
    compile_expression: Callable[[Value], Expression | ExpressionSyntaxError]
    resolve_literal: Callable[[str], str]
    # The statement being compiled: runtime errors of its expressions name it (LastError.Source).
    statement: str = ""
    policy_id: str | None = None
    # The section being compiled: set-header changes the request in inbound/backend and the
    # response in outbound/on-error.
    section: str = "inbound"

    def value(self, value: Value | None, default: object = None) -> Evaluator:
        """An evaluator for an attribute value or text: a constant or a parsed expression."""
        if value is None:
            return constant(default)
        if not value.is_expression:
            return constant(self.resolve_literal(value.text))
        evaluate = self._evaluator(value)
        source, policy_id = self.statement, self.policy_id

        def run(context: RequestContext) -> object:
            try:
                return evaluate(context.model)
            except ExpressionError as error:
                raise _evaluation_failed(source, policy_id, error) from None

        return run

    def _evaluator(self, value: Value) -> Callable[[ContextModel], object]:
        """The expression `value` compiled: `compiled.evaluate` as one callable, one call
        fewer a request."""
        compiled = self.compile_expression(value)
        if isinstance(compiled, ExpressionSyntaxError):
            raise CompileFailure(
                value.location.shifted(value.text[: compiled.offset]),
                "expression-syntax",
                compiled.message,
            )
        return compiled.evaluator()

    def condition(
        self, value: Value | None, default: bool = False
    ) -> Callable[[RequestContext], bool]:
        """An evaluator for a bool attribute: literal `true`/`false` or an expression."""
        source = self.statement
        if value is not None and value.is_expression:
            # The expression's evaluator called here, not through `value`'s: a condition
            # runs per request (choose, retry), one call fewer each time.
            evaluate = self._evaluator(value)
            policy_id = self.policy_id

            def expression(context: RequestContext) -> bool:
                try:
                    result = evaluate(context.model)
                except ExpressionError as error:
                    raise _evaluation_failed(source, policy_id, error) from None
                if result.__class__ is bool:  # what nearly every condition gives
                    return result  # type: ignore[return-value]
                return _truth(result, source)

            return expression
        literal = self.value(value, default)
        try:  # a literal's truth is known now (a bad one stays the request's error)
            truth = truthy(literal(None))  # type: ignore[arg-type]
            return cast(Callable[["RequestContext"], bool], constant(truth))
        except ExpressionError:
            pass

        def run(context: RequestContext) -> bool:
            return _truth(literal(context), source)

        return run

    def literal(self, value: Value | None, default: str | None = None) -> str | None:
        """A value that the registry declares literal-only, with named values resolved."""
        if value is None:
            return default
        return self.resolve_literal(value.text)

    def integer(self, value: Value | None, default: int) -> int:
        """A literal-only whole number; the linter reported anything else already."""
        text = self.literal(value)
        if text is None:
            return default
        try:
            return int(text.strip())
        except ValueError:
            assert value is not None
            if "{{" in text:  # a named value the linter could not resolve; reported there
                raise CompileFailure(value.location, UNRESOLVED_REFERENCE, text) from None
            raise CompileFailure(
                value.location, "invalid-value", f"'{text}' is not a whole number"
            ) from None

    def chain(self, nodes: list[Node]) -> Chain:
        return self.compile_chain(nodes)
