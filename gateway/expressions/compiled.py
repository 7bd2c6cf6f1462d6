"""What a compiled expression is made of: closures called with the evaluation's state and the
scope of locals, the state itself, and the interface the compiler's parts call each other by.

A compiled node is `fn(run, scope) -> value`. A compiled statement is `fn(run, scope)` giving
None when it completes, or `BREAK`, `CONTINUE` or a `Returned` when it jumps: returned values
rather than the interpreter's exceptions, as jumps happen on ordinary request paths.

There are two builds of a tree (closures.py decides which runs): one counts steps exactly as
the interpreter does (each node's closure charges one step first, so a budget runs out at
the same point with the same error), the other counts none and is only used when the
budget exceeds the most steps the tree could ever take (a tree without loops or lambdas).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from gateway.expressions import ast as A
from gateway.expressions.evaluation import BUDGET_SPENT, Locals
from gateway.expressions.model import ContextModel
from gateway.expressions.values import ExpressionError


class Run:
    """One evaluation's state: the request's context and the steps left."""

    __slots__ = ("budget", "context")

    def __init__(self, context: ContextModel, budget: int) -> None:
        self.context = context
        self.budget = budget


Fn = Callable[[Run, Locals], Any]


class Returned:
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


BREAK = object()
CONTINUE = object()


class Compiling(Protocol):
    """The compiler as its parts (calls, statements) see it."""

    ticks: bool
    declared: frozenset[str]

    def expr(self, node: A.Node) -> Fn: ...

    def statement(self, node: A.Node) -> Fn: ...

    def block(self, node: A.Block) -> Fn: ...

    def function(self, params: tuple[str, ...], body: A.Node) -> Fn: ...

    def name(self, node: A.Name) -> Fn: ...

    def member_target(self, node: A.Member) -> tuple[object, Fn | None]: ...


def ticked(fn: Fn) -> Fn:
    """`fn` charging one step first, as the interpreter's `eval` and `execute` do."""

    def step(run: Run, scope: Locals) -> Any:
        run.budget -= 1
        if run.budget < 0:
            raise ExpressionError(BUDGET_SPENT)
        return fn(run, scope)

    return step


def spend(run: Run) -> None:
    """Charge one step: a loop's iteration (the interpreter's `tick`)."""
    run.budget -= 1
    if run.budget < 0:
        raise ExpressionError(BUDGET_SPENT)


def constant(value: object) -> Fn:
    """A closure giving `value`, marked so that the compiler can fold what uses it."""

    def give(run: Run, scope: Locals) -> object:
        return value

    give.constant = (value,)  # type: ignore[attr-defined]
    return give


def constant_of(fn: Fn) -> tuple[object] | None:
    """`(value,)` when `fn` always gives `value` (and does nothing else), else None."""
    return getattr(fn, "constant", None)


def failing(message: str) -> Fn:
    """A closure raising the error the interpreter raises at this node."""

    def fail(run: Run, scope: Locals) -> object:
        raise ExpressionError(message)

    return fail
