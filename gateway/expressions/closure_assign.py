"""Compiling assignments: `x = v`, `x += v`, `x ??= v`, `a[k] = v`, `x++` and `--x`, storing
where the interpreter stores (interpreter.py, `store`): a declared local, or an item of a JSON
value, dictionary or list; never a member of `context`."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions.compiled import Compiling, Fn, Run
from gateway.expressions.evaluation import Locals
from gateway.expressions.operators import binary_function, binary_op, set_index
from gateway.expressions.values import ExpressionError, unwrap

Store = Callable[[Run, Locals, object], None]


def _store(c: Compiling, target: A.Node) -> Store:
    """What assigns to `target` (the interpreter's `store`)."""
    if isinstance(target, A.Name):
        name = target.name
        if name not in c.declared:  # no scope can hold it (and there may be no scope)
            return _refuse(f"'{name}' is not a declared variable")

        def store_local(run: Run, scope: Locals, value: object) -> None:
            owner = scope.find(name)
            if owner is None:
                raise ExpressionError(f"'{name}' is not a declared variable")
            owner.names[name] = value

        return store_local
    if isinstance(target, A.Index):
        container, key = c.expr(target.target), c.expr(target.args[0])

        def store_item(run: Run, scope: Locals, value: object) -> None:
            set_index(container(run, scope), key(run, scope), value, run.context)

        return store_item

    return _refuse("policy expressions cannot assign to members of context")


def _refuse(message: str) -> Store:
    def refuse(run: Run, scope: Locals, value: object) -> None:
        raise ExpressionError(message)

    return refuse


def compile_assign(c: Compiling, node: A.Assign) -> Fn:
    value_of, store, op = c.expr(node.value), _store(c, node.target), node.op
    if op == "=":

        def assign(run: Run, scope: Locals) -> object:
            value = value_of(run, scope)
            store(run, scope, value)
            return value

        return assign
    current_of = c.expr(node.target)
    operator = None if op == "??=" else binary_function(op[:-1])

    def update(run: Run, scope: Locals) -> object:
        value = value_of(run, scope)
        current = current_of(run, scope)
        if operator is None:
            value = current if current is not None else value
        else:
            value = operator(current, value)
        store(run, scope, value)
        return value

    return update


def compile_step(c: Compiling, node: A.Step) -> Fn:
    current_of, store = c.expr(node.target), _store(c, node.target)
    op, prefix = ("+" if node.op == "++" else "-"), node.prefix

    def step(run: Run, scope: Locals) -> object:
        current = unwrap(current_of(run, scope))
        updated = binary_op(op, current, 1)
        store(run, scope, updated)
        return updated if prefix else current

    return step
