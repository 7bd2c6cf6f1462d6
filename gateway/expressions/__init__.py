"""Policy expressions: APIM's C# `@(...)` and `@{...}`, parsed once and run sandboxed.

    expression = compile_expression('@(context.Request.Headers.GetValueOrDefault("x", "-"))')
    expression.evaluate(ContextModel())   # -> "-"

`compile_expression` raises `ExpressionSyntaxError` (with the offset of the problem) for text
that cannot be parsed or names what policy expressions cannot use; `evaluate` raises
`ExpressionError` for every runtime failure and never runs Python's eval.

The tree is compiled once into Python closures (closures.py), which `evaluate` runs; the
tree-walking interpreter (interpreter.py) is the reference they are tested against
(`interpret` runs it under the same contract).
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions.allowance import start
from gateway.expressions.check import check_names
from gateway.expressions.interpreter import Interpreter
from gateway.expressions.model import ContextModel
from gateway.expressions.parser import ParseError, parse
from gateway.expressions.paths import Reader, path_reader
from gateway.expressions.program import Compiled
from gateway.expressions.scan import is_whole_expression
from gateway.expressions.values import ExpressionError

# The step budget of an evaluation when none is given (a statement's, at run time).
DEFAULT_BUDGET = 100_000


class ExpressionSyntaxError(Exception):
    """The expression cannot be parsed or uses what policy expressions cannot."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class Expression:
    """A parsed expression, ready to evaluate any number of times."""

    __slots__ = ("_compiled", "_path_steps", "_read_path", "_tree", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._tree = parse(source)
            check_names(self._tree)
        except ParseError as error:
            raise ExpressionSyntaxError(error.message, error.offset) from None
        except RecursionError:
            raise ExpressionSyntaxError("the expression nests too deeply", 0) from None
        except (ValueError, IndexError, OverflowError) as error:  # a lexer edge not yet mapped
            raise ExpressionSyntaxError(f"cannot read this expression ({error})", 0) from None
        path = context_path(self._tree)
        # `context.A.B`, the commonest shape, read directly (it takes one step per name).
        self._read_path: Reader | None = None if path is None else path_reader(path)
        self._path_steps = 0 if path is None else len(path)
        self._compiled = Compiled(self._tree)

    @property
    def tree(self) -> A.Node:
        """The parsed tree (what load-time checks such as the linter's read)."""
        return self._tree

    def evaluate(self, context: ContextModel, *, budget: int = DEFAULT_BUDGET) -> object:
        read = self._read_path
        if read is not None and budget > self._path_steps:
            return read(context)
        run, tally = self._program(budget)
        return under_contract(run, context, budget, tally=tally)

    def evaluator(self) -> Callable[[ContextModel], object]:
        """`evaluate` at the default budget as one callable, what it decides per call decided
        now: a statement's evaluator calls it per request, one layer fewer."""
        read = self._read_path
        if read is not None and self._path_steps < DEFAULT_BUDGET:
            return read
        run, tally = self._program(DEFAULT_BUDGET)
        return contracted(run, DEFAULT_BUDGET, tally=tally)

    def _program(self, budget: int) -> tuple[Callable[[ContextModel, int], object], bool]:
        """The build `budget` calls for (`compiled.run` decides the same, one call later), and
        whether it needs a fresh allowance."""
        compiled = self._compiled
        fast = compiled.fast
        run = compiled.run if fast is None or budget < compiled.steps else fast
        return run, compiled.charges

    def interpret(self, context: ContextModel, *, budget: int = 100_000) -> object:
        """`evaluate` by the reference interpreter, under the same contract."""
        return under_contract(lambda c, b: Interpreter(c, b).run(self._tree), context, budget)


def under_contract(
    run: Callable[[ContextModel, int], object],
    context: ContextModel,
    budget: int,
    *,
    tally: bool = True,
) -> object:
    """`run(context, budget)`, every failure an `ExpressionError`; with `tally` (an expression
    that may charge its allowance), from a fresh allowance."""
    return contracted(run, budget, tally=tally)(context)


def contracted(
    run: Callable[[ContextModel, int], object], budget: int, *, tally: bool = True
) -> Callable[[ContextModel], object]:
    """`run` at `budget` under the contract of `under_contract`, as a callable of the context."""

    def evaluate(context: ContextModel) -> object:
        if tally:
            start()
        try:
            return run(context, budget)
        except ExpressionError:
            raise
        except RecursionError:
            raise ExpressionError("the expression nests too deeply") from None
        except Exception as error:  # a library edge we did not map: still the same contract
            raise ExpressionError(f"{type(error).__name__}: {error}") from None

    return evaluate


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
