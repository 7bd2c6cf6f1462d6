"""A compiled expression as `Expression.evaluate` runs it: both builds of closures
(closures.py) and which of them a budget calls for.

A tree without loops or lambdas can take at most `max_steps` steps, so with a budget at least
that large the closures count nothing (`fast`); otherwise the build that charges a step per
node, exactly as the interpreter does, runs (`ticking`, made on first use), and a budget runs
out at the same step, with the same error, in both.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions.closure_statements import finish
from gateway.expressions.closures import Compiler, declared_names
from gateway.expressions.compiled import Run
from gateway.expressions.evaluation import Locals
from gateway.expressions.model import ContextModel
from gateway.expressions.values import ExpressionError

Program = Callable[[ContextModel, int], object]

_LOOPING = (A.While, A.For, A.ForEach, A.Lambda, A.LocalFunction)


class Compiled:
    """An expression's closures: `run(context, budget)` evaluates it."""

    __slots__ = ("_ticking", "charges", "fast", "steps", "tree")

    def __init__(self, tree: A.Node) -> None:
        self.tree = tree
        self.charges = charges(tree)
        steps = max_steps(tree)
        self.steps: float = math.inf if steps is None else steps
        # What a budget of at least `steps` runs; None when the tree is unbounded.
        self.fast = None if steps is None else compile_program(tree, ticks=False)
        self._ticking = compile_program(tree, ticks=True) if steps is None else None

    def run(self, context: ContextModel, budget: int) -> object:
        if budget >= self.steps:
            return self.fast(context, budget)  # type: ignore[misc]
        return self.ticking(context, budget)

    @property
    def ticking(self) -> Program:
        """The build that counts every step (made when a small budget first asks for it)."""
        if self._ticking is None:
            self._ticking = compile_program(self.tree, ticks=True)
        return self._ticking


def compile_program(tree: A.Node, *, ticks: bool) -> Program:
    compiler = Compiler(tree, ticks=ticks)
    if isinstance(tree, A.Block):
        body = compiler.block(tree)

        def program(context: ContextModel, budget: int) -> object:
            jump = body(Run(context, budget), Locals())
            if jump is None:
                raise ExpressionError("the block ended without a return statement")
            return finish(jump)

        return program
    expression = compiler.expr(tree)
    if compiler.declared:
        return lambda context, budget: expression(Run(context, budget), Locals())
    # Nothing is declared, so nothing reads the scope.
    return lambda context, budget: expression(Run(context, budget), None)  # type: ignore[arg-type]


# What never charges the allowance (allowance.py): no call, no string `+`, nothing made.
_UNCHARGED = (
    A.Literal,
    A.Name,
    A.Member,
    A.Index,
    A.Unary,
    A.Binary,
    A.Conditional,
    A.TypeOf,
    A.Default,
)


# Calls that never charge it: a header dictionary's look-ups (the values joined with commas,
# as the library's dictionary methods do, uncharged), on the request's or response's headers,
# which the model always holds in one (or None: an error, still uncharged).
_HEADER_LOOKUPS = frozenset({"GetValueOrDefault", "ContainsKey"})
_MESSAGES = frozenset({"Request", "Response"})


def charges(tree: A.Node) -> bool:
    """Whether evaluating `tree` may charge the allowance (so it needs a fresh one): false for
    the commonest conditions, comparisons of members and header look-ups, which then skip
    resetting it."""
    # `context` may be declared as a local (a lambda's parameter, say): then `context.Request`
    # is whatever that holds, and its calls may charge.
    lookups = "context" not in declared_names(tree)
    return any(
        not isinstance(node, _UNCHARGED) or (isinstance(node, A.Binary) and node.op == "+")
        for node in A.walk(tree)
        if not (lookups and _header_lookup(node))
    )


def _header_lookup(node: A.Node) -> bool:
    """`context.Request.Headers.GetValueOrDefault(...)` (or `ContainsKey`, or the Response's):
    its arguments are nodes of their own, which `charges` looks at apart."""
    if not isinstance(node, A.Call) or not isinstance(node.target, A.Member):
        return False
    callee = node.target
    if callee.name not in _HEADER_LOOKUPS or callee.type_args:
        return False
    if any(arg.out or arg.name is not None for arg in node.args):
        return False
    headers = callee.target
    if not isinstance(headers, A.Member) or headers.name != "Headers":
        return False
    message = headers.target
    return (
        isinstance(message, A.Member)
        and message.name in _MESSAGES
        and isinstance(message.target, A.Name)
        and message.target.name == "context"
    )


def max_steps(node: A.Node) -> int | None:
    """The most steps the interpreter can charge evaluating `node`; None when unbounded (a
    loop, or a lambda, which the library may call any number of times)."""
    if isinstance(node, _LOOPING):
        return None
    counts = [max_steps(child) for child in A.children(node)]
    if None in counts:
        return None
    total = 1 + sum(counts)  # type: ignore[arg-type]
    if isinstance(node, A.Assign | A.Step):  # the target is read, then written
        total += max_steps(node.target)  # type: ignore[operator]
    return total
