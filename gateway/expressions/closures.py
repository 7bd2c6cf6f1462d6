"""Compile a parsed expression once into a tree of Python closures: a request calls one
function instead of walking the syntax tree (the interpreter, interpreter.py, which stays as
the reference these closures are tested against).

Decided at load: literals, and operators over them (folded when that cannot fail and gives an
immutable value); which names are locals (a name the expression never declares is `context`,
a static type or an error, whatever the scope); static receivers (`DateTime.UtcNow`,
`System.String.Empty`, the type of `int.Parse`); `context.A.B` chains, walked in one closure;
the operator function of each operator; the string method a call names.

Two builds (compiled.py): with `ticks`, each closure charges its step as the interpreter does;
without, nothing is counted. program.py decides which one runs.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from gateway.expressions import ast as A
from gateway.expressions import library as L
from gateway.expressions import statics as S
from gateway.expressions.allowance import CHARGE_FROM, allocate
from gateway.expressions.closure_assign import compile_assign, compile_step
from gateway.expressions.closure_calls import compile_call, compile_new
from gateway.expressions.closure_compare import against_constant
from gateway.expressions.closure_statements import compile_block, compile_statement, finish
from gateway.expressions.compiled import Fn, Run, constant, constant_of, failing, ticked
from gateway.expressions.conversions import cast, is_instance, try_cast
from gateway.expressions.evaluation import (
    Locals,
    StaticType,
    dotted_type_name,
    is_static_type_name,
    prefixed_type_name,
)
from gateway.expressions.operators import (
    binary_function,
    default_of,
    get_index,
    unary_op,
)
from gateway.expressions.paths import path_reader
from gateway.expressions.values import ExpressionError, to_text, truthy

# Values a folded constant may hold: immutable, so one object can serve every request.
_FOLDABLE = (str, int, float, bool, Decimal, type(None))


def declared_names(tree: A.Node) -> frozenset[str]:
    """Every name the expression could make a local of."""
    names: set[str] = set()
    for node in A.walk(tree):
        if isinstance(node, A.Declare):
            names.update(name for name, _ in node.names)
        elif isinstance(node, A.Lambda):
            names.update(node.params)
        elif isinstance(node, A.LocalFunction):
            names.update((node.name, *node.params))
        elif isinstance(node, A.ForEach):
            names.add(node.name)
        elif isinstance(node, A.TypeTest | A.Try):
            names.add(node.declares if isinstance(node, A.TypeTest) else node.catch_name)  # type: ignore[arg-type]
        elif isinstance(node, A.Call):
            for arg in node.args:
                if arg.out and isinstance(arg.value, A.Name):
                    names.add(arg.value.name)
                names.add(arg.declares)  # type: ignore[arg-type]
    names.discard(None)  # type: ignore[arg-type]
    return frozenset(names)


class Compiler:
    def __init__(self, tree: A.Node, *, ticks: bool) -> None:
        self.ticks = ticks
        self.declared = declared_names(tree)

    def expr(self, node: A.Node) -> Fn:
        make = _EXPRESSIONS.get(type(node))
        fn = (
            failing(f"unsupported expression {type(node).__name__}")
            if make is None
            else make(self, node)
        )
        return ticked(fn) if self.ticks else fn

    def statement(self, node: A.Node) -> Fn:
        fn = compile_statement(self, node)
        return ticked(fn) if self.ticks else fn

    def block(self, node: A.Block) -> Fn:
        return compile_block(self, node)

    def function(self, params: tuple[str, ...], body: A.Node) -> Fn:
        """A closure making the Python callable of a lambda or local function."""
        if isinstance(body, A.Block):
            block = self.block(body)

            def run_block(run: Run, scope: Locals) -> object:
                return finish(block(run, scope))

            evaluate = run_block
        else:
            evaluate = self.expr(body)

        def make(run: Run, scope: Locals) -> Callable[..., object]:
            def invoke(*args: object) -> object:
                inner = Locals(scope)
                for name, arg in zip(params, args, strict=False):
                    inner.names[name] = arg
                return evaluate(run, inner)

            return invoke

        return make

    def name(self, node: A.Name) -> Fn:
        """A name's value, without the step (a call's callee is not charged one)."""
        name = node.name
        if name == "context":
            outside: Fn = _context
        elif is_static_type_name(name):
            outside = constant(StaticType(name))
        else:
            outside = failing(f"unknown name '{name}'")
        if name not in self.declared:
            return outside

        def local(run: Run, scope: Locals) -> object:
            found = scope.find(name)
            return outside(run, scope) if found is None else found.names[name]

        return local

    def member_target(self, node: A.Member) -> tuple[object, Fn | None]:
        """(the static type, None) when the target is one whatever happens; else (None, the
        target's closure)."""
        prefixed = prefixed_type_name(node.target)
        if prefixed is not None:
            static = StaticType(prefixed)
            if prefixed not in self.declared:
                return static, None
            evaluate = self.expr(node.target)

            def target(run: Run, scope: Locals) -> object:
                return static if scope.find(prefixed) is None else evaluate(run, scope)

            return None, target
        dotted = dotted_type_name(node.target)
        if dotted is not None:
            return StaticType(dotted), None
        evaluate = self.expr(node.target)
        value = constant_of(evaluate)
        if value is not None and isinstance(value[0], StaticType):
            return value[0], None
        return None, evaluate


def _context(run: Run, scope: Locals) -> object:
    return run.context


_context.context_path = ()  # type: ignore[attr-defined]


def _fold(fn: Fn, *parts: Fn) -> Fn:
    """`fn` replaced by its value when every part is a constant and it gives an immutable
    value without error (an error is left to be raised when, and if, it is reached)."""
    if not all(constant_of(part) is not None for part in parts):
        return fn
    try:
        value = fn(None, None)  # type: ignore[arg-type]
    except Exception:
        return fn
    return constant(value) if isinstance(value, _FOLDABLE) else fn


def _literal(c: Compiler, node: A.Literal) -> Fn:
    return constant(node.value)


def _name(c: Compiler, node: A.Name) -> Fn:
    return c.name(node)


def _member(c: Compiler, node: A.Member) -> Fn:
    static, target = c.member_target(node)
    name = node.name
    if isinstance(static, StaticType):
        getter = S.static_getter(static.name, name)
        if static.name in S.ENUM_TYPES:  # a name, the same on every request
            return constant(getter())
        return lambda run, scope: getter()
    assert target is not None
    path = getattr(target, "context_path", None)
    if path is not None and not node.null_conditional and not c.ticks:
        return _context_path((*path, name))
    if node.null_conditional:

        def member(run: Run, scope: Locals) -> object:
            value = target(run, scope)
            if value is None:
                return None
            if isinstance(value, StaticType):
                return S.static_member(value.name, name)
            return L.member(value, name)

        return member

    def plain_member(run: Run, scope: Locals) -> object:
        value = target(run, scope)
        if isinstance(value, StaticType):
            return S.static_member(value.name, name)
        return L.member(value, name)

    return plain_member


def _context_path(path: tuple[str, ...]) -> Fn:
    """`context.A.B...` in one closure."""
    read = path_reader(path)

    def fn(run: Run, scope: Locals) -> object:
        return read(run.context)

    fn.context_path = path  # type: ignore[attr-defined]
    return fn


def _index(c: Compiler, node: A.Index) -> Fn:
    target, key = c.expr(node.target), c.expr(node.args[0])
    null_conditional = node.null_conditional

    def index(run: Run, scope: Locals) -> object:
        container = target(run, scope)
        if container is None and null_conditional:
            return None
        return get_index(container, key(run, scope), run.context)

    return index


def _interpolated(c: Compiler, node: A.Interpolated) -> Fn:
    holes: list[Fn] = []
    parts: list[str | Fn] = []
    for part in node.parts:
        if isinstance(part, str):
            parts.append(part)
            continue
        expression, spec = part  # type: ignore[misc]
        value = c.expr(expression)
        holes.append(value)
        parts.append(_formatted(value, spec) if spec else _text(value))

    def interpolated(run: Run, scope: Locals) -> str:
        text = "".join([p if type(p) is str else p(run, scope) for p in parts])  # type: ignore[misc]
        if len(text) > CHARGE_FROM:  # `charged`, inline: interpolation is on request paths
            allocate(len(text))
        return text

    return interpolated if c.ticks else _fold(interpolated, *holes)


def _formatted(value: Fn, spec: str) -> Fn:
    return lambda run, scope: L.call_method(value(run, scope), "ToString", [spec], ())


def _text(value: Fn) -> Fn:
    return lambda run, scope: to_text(value(run, scope))


def _unary(c: Compiler, node: A.Unary) -> Fn:
    op, operand = node.op, c.expr(node.operand)
    fn = lambda run, scope: unary_op(op, operand(run, scope))  # noqa: E731
    return fn if c.ticks else _fold(fn, operand)


def _binary(c: Compiler, node: A.Binary) -> Fn:
    op, left, right = node.op, c.expr(node.left), c.expr(node.right)
    fn: Fn
    if op in ("&&", "||"):
        fn = _logical(op == "&&", left, right)
    elif op == "??":

        def fn(run: Run, scope: Locals) -> object:
            value = left(run, scope)
            return value if value is not None else right(run, scope)
    else:
        operator = binary_function(op)
        fixed = constant_of(right)
        if fixed is not None and not c.ticks:
            (value,) = fixed
            fn = against_constant(op, left, value, operator) or (
                lambda run, scope: operator(left(run, scope), value)
            )
        else:
            fn = lambda run, scope: operator(left(run, scope), right(run, scope))  # noqa: E731
    return fn if c.ticks else _fold(fn, left, right)


def _logical(conjunction: bool, left: Fn, right: Fn) -> Fn:
    """`&&` (`conjunction`) or `||`: `truthy` of each side, short-circuiting; a side that is
    already a bool (a comparison's, the commonest) is used as it is."""
    decisive = not conjunction  # the left value that decides without the right

    def logical(run: Run, scope: Locals) -> bool:
        found = left(run, scope)
        if (found if type(found) is bool else truthy(found)) is decisive:
            return decisive
        found = right(run, scope)
        return found if type(found) is bool else truthy(found)

    return logical


def _conditional(c: Compiler, node: A.Conditional) -> Fn:
    condition, then, otherwise = (
        c.expr(node.condition),
        c.expr(node.then),
        c.expr(node.otherwise),
    )
    fixed = None if c.ticks else constant_of(condition)
    if fixed is not None:
        try:
            return then if truthy(fixed[0]) else otherwise
        except ExpressionError:
            pass
    return lambda run, scope: (
        then(run, scope) if truthy(condition(run, scope)) else otherwise(run, scope)
    )


def _cast(c: Compiler, node: A.Cast) -> Fn:
    kind, operand = str(node.type), c.expr(node.operand)
    fn = lambda run, scope: cast(kind, operand(run, scope))  # noqa: E731
    return fn if c.ticks else _fold(fn, operand)


def _type_test(c: Compiler, node: A.TypeTest) -> Fn:
    kind, operand, declares = str(node.type), c.expr(node.operand), node.declares
    if node.op == "as":
        return lambda run, scope: try_cast(kind, operand(run, scope))

    def type_test(run: Run, scope: Locals) -> object:
        value = operand(run, scope)
        matched = is_instance(kind, value)
        if matched and declares:
            scope.names[declares] = value
        return matched

    return type_test


def _lambda(c: Compiler, node: A.Lambda) -> Fn:
    return c.function(node.params, node.body)


def _typeof(c: Compiler, node: A.TypeOf) -> Fn:
    return constant(str(node.type))


def _default(c: Compiler, node: A.Default) -> Fn:
    return constant(None if node.type is None else default_of(str(node.type)))


_EXPRESSIONS: dict[type, Callable[[Compiler, Any], Fn]] = {
    A.Literal: _literal,
    A.Interpolated: _interpolated,
    A.Name: _name,
    A.Member: _member,
    A.Call: compile_call,
    A.Index: _index,
    A.Unary: _unary,
    A.Binary: _binary,
    A.Conditional: _conditional,
    A.Cast: _cast,
    A.TypeTest: _type_test,
    A.Assign: compile_assign,
    A.Step: compile_step,
    A.Lambda: _lambda,
    A.New: compile_new,
    A.TypeOf: _typeof,
    A.Default: _default,
}
