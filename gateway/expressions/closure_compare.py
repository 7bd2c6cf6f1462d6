"""Comparisons against a constant, the commonest shape of a condition
(`context.Response.StatusCode >= 500`, `... == "1"`), decided at load as far as they can be.

When the constant is a plain int and the value turns out to be one too (or both are strings,
for `==` and `!=`), C#'s operator is Python's, so the closure compares them directly; any
other value goes through the operator's own function (operators.py): the same answer and the
same error, only without the checks that cannot change it.
"""

from __future__ import annotations

import operator as py
from collections.abc import Callable

from gateway.expressions.compiled import Fn, Run
from gateway.expressions.evaluation import Locals

_DIRECT: dict[str, Callable[[object, object], bool]] = {
    "==": py.eq,
    "!=": py.ne,
    "<": py.lt,
    ">": py.gt,
    "<=": py.le,
    ">=": py.ge,
}
_EQUALITY = ("==", "!=")


def against_constant(
    op: str, left: Fn, value: object, general: Callable[[object, object], object]
) -> Fn | None:
    """`left op value` for a constant `value`, `general` the operator's function; None when
    there is no direct comparison to make for this operator and constant."""
    direct = _DIRECT.get(op)
    kind = type(value)  # exactly: a bool or a Long is not C#'s int
    if direct is None or not (kind is int or (kind is str and op in _EQUALITY)):
        return None

    def compare(run: Run, scope: Locals) -> object:
        found = left(run, scope)
        if type(found) is kind:
            return direct(found, value)
        return general(found, value)

    return compare
