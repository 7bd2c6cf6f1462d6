"""Policy expressions: APIM's C# `@(...)` and `@{...}`, parsed once and run sandboxed.

    expression = compile_expression('@(context.Request.Headers.GetValueOrDefault("x", "-"))')
    expression.evaluate(ContextModel())   # -> "-"

`compile_expression` raises `ExpressionSyntaxError` (with the offset of the problem) for text
that cannot be parsed or names what policy expressions cannot use; `evaluate` raises
`ExpressionError` for every runtime failure and never runs Python's eval.
"""

from __future__ import annotations

from gateway.expressions import ast as A
from gateway.expressions.check import check_names
from gateway.expressions.interpreter import Interpreter
from gateway.expressions.library import member
from gateway.expressions.model import ContextModel
from gateway.expressions.parser import ParseError, parse
from gateway.expressions.scan import is_whole_expression
from gateway.expressions.values import ExpressionError


class ExpressionSyntaxError(Exception):
    """The expression cannot be parsed or uses what policy expressions cannot."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class Expression:
    """A parsed expression, ready to evaluate any number of times."""

    __slots__ = ("_context_path", "_tree", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._context_path: tuple[str, ...] | None = None
        try:
            self._tree = parse(source)
            check_names(self._tree)
        except ParseError as error:
            raise ExpressionSyntaxError(error.message, error.offset) from None
        except RecursionError:
            raise ExpressionSyntaxError("the expression nests too deeply", 0) from None
        except (ValueError, IndexError, OverflowError) as error:  # a lexer edge not yet mapped
            raise ExpressionSyntaxError(f"cannot read this expression ({error})", 0) from None
        self._context_path = context_path(self._tree)

    def evaluate(self, context: ContextModel, *, budget: int = 100_000) -> object:
        if self._context_path is not None:  # `context.A.B`: the commonest shape, walked directly
            value: object = context
            for name in self._context_path:
                value = member(value, name)
            return value
        try:
            return Interpreter(context, budget).run(self._tree)
        except ExpressionError:
            raise
        except RecursionError:
            raise ExpressionError("the expression nests too deeply") from None
        except Exception as error:  # a library edge we did not map: still the same contract
            raise ExpressionError(f"{type(error).__name__}: {error}") from None


def context_path(tree: A.Node) -> tuple[str, ...] | None:
    """The member names of an expression that is only `context.A.B...`, else None."""
    names: list[str] = []
    node = tree
    while isinstance(node, A.Member) and not node.null_conditional and not node.type_args:
        names.append(node.name)
        node = node.target
    if names and isinstance(node, A.Name) and node.name == "context":
        return tuple(reversed(names))
    return None


def compile_expression(source: str) -> Expression:
    return Expression(source)


def is_expression(text: str) -> bool:
    return is_whole_expression(text)


__all__ = [
    "ContextModel",
    "Expression",
    "ExpressionError",
    "ExpressionSyntaxError",
    "compile_expression",
    "is_expression",
]
