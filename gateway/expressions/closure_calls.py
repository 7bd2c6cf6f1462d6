"""Compiling calls: `f(x)`, `target.Method<T>(args, out var y)`, `Type.Method(...)` and
`new T(...) { ... }`, with what the call's shape fixes decided at load.

A static receiver (`int.Parse`, `System.Text.Encoding.UTF8.GetBytes` up to the type) is found
once and its method looked up once; a string method is looked up by name once and used when
the receiver turns out to be a string. Everything else goes through the library's dispatch,
as in the interpreter (interpreter.py, `call`), which these closures must agree with.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions import library as L
from gateway.expressions.coerce import OutResult
from gateway.expressions.compiled import Compiling, Fn, Run, constant_of, failing
from gateway.expressions.construct import construct
from gateway.expressions.evaluation import (
    Locals,
    OutTarget,
    StaticType,
    bind_outs,
    call_on,
    static_method,
)
from gateway.expressions.model import HeaderDictionary
from gateway.expressions.strings import STRING_METHODS
from gateway.expressions.values import ExpressionError

Arguments = Callable[[Run, Locals], list[object]]
ArgumentsWithOuts = Callable[[Run, Locals], tuple[list[object], list[OutTarget]]]


def compile_call(c: Compiling, node: A.Call) -> Fn:
    callee = node.target
    if isinstance(callee, A.Name):
        return _local_call(c, callee, node.args)
    if not isinstance(callee, A.Member):
        return failing("only methods can be called")
    static, target = c.member_target(callee)
    if any(arg.out for arg in node.args):
        return _call_with_outs(c, callee, static, target, _arguments_with_outs(c, node.args))
    values = [c.expr(arg.value) for arg in node.args]
    arguments = _arguments(values)
    if isinstance(static, StaticType):
        method = static_method(static.name, callee.name)

        def static_call_(run: Run, scope: Locals) -> object:
            result = method(arguments(run, scope))
            return result.value if isinstance(result, OutResult) else result

        return static_call_
    assert target is not None
    on = _method_on(callee, arguments)
    if not c.ticks and callee.name == "GetValueOrDefault":
        lookup = _header_lookup(target, values, on)
        if lookup is not None:
            return lookup

    def call(run: Run, scope: Locals) -> object:
        return on(target(run, scope), run, scope)

    return call


MethodOn = Callable[[object, Run, Locals], object]


def _method_on(callee: A.Member, arguments: Arguments) -> MethodOn:
    """The call of `callee`'s method on a receiver already evaluated."""
    name, null_conditional = callee.name, callee.null_conditional
    type_args = tuple(str(t) for t in callee.type_args)
    string_method = STRING_METHODS.get(name)
    label = f"string.{name}"

    def on(receiver: object, run: Run, scope: Locals) -> object:
        if receiver is None and null_conditional:
            return None
        args = arguments(run, scope)
        if type(receiver) is str and string_method is not None:
            result = L.invoke_method(string_method, receiver, args, label)
        else:
            result = call_on(receiver, name, args, type_args, run.context)
        return result.value if isinstance(result, OutResult) else result

    return on


def _header_lookup(target: Fn, values: list[Fn], on: MethodOn) -> Fn | None:
    """`headers.GetValueOrDefault("name", default)` with constant arguments, the commonest
    header read: on a header dictionary, the lookup itself (what the library's dictionary
    method does, without finding its way there); on anything else, the general call."""
    constants = [constant_of(value) for value in values]
    if not 1 <= len(values) <= 2 or None in constants or type(constants[0][0]) is not str:  # type: ignore[index]
        return None
    key = constants[0][0].lower()  # type: ignore[index, union-attr]
    default = constants[1][0] if len(constants) > 1 else None  # type: ignore[index]

    def lookup(run: Run, scope: Locals) -> object:
        receiver = target(run, scope)
        if type(receiver) is HeaderDictionary:
            found = receiver.get(key)
            return default if found is None else ",".join(found)
        return on(receiver, run, scope)

    return lookup


def _call_with_outs(
    c: Compiling,
    callee: A.Member,
    static: object,
    target: Fn | None,
    arguments: ArgumentsWithOuts,
) -> Fn:
    """A call with `out` arguments: rare, so one general closure, as the interpreter does it."""
    name, null_conditional = callee.name, callee.null_conditional
    type_args = tuple(str(t) for t in callee.type_args)

    def call(run: Run, scope: Locals) -> object:
        receiver = static if target is None else target(run, scope)
        if receiver is None and null_conditional:
            return None
        args, outs = arguments(run, scope)
        result = call_on(receiver, name, args, type_args, run.context)
        return bind_outs(result, outs, scope)

    return call


def _local_call(c: Compiling, callee: A.Name, args: tuple[A.Argument, ...]) -> Fn:
    """`f(x)`: a local function or a lambda held in a local."""
    function_of = c.name(callee)
    label = callee.name
    if any(arg.out for arg in args):
        with_outs = _arguments_with_outs(c, args)

        def arguments(run: Run, scope: Locals) -> list[object]:
            return with_outs(run, scope)[0]
    else:
        arguments = _arguments([c.expr(arg.value) for arg in args])

    def call(run: Run, scope: Locals) -> object:
        function = function_of(run, scope)
        if not callable(function):
            raise ExpressionError(f"'{label}' is not a method")
        return function(*arguments(run, scope))

    return call


def _arguments(values: list[Fn]) -> Arguments:
    if not values:
        return lambda run, scope: []
    if len(values) == 1:
        only = values[0]
        return lambda run, scope: [only(run, scope)]
    if len(values) == 2:
        first, second = values
        return lambda run, scope: [first(run, scope), second(run, scope)]
    return lambda run, scope: [value(run, scope) for value in values]


def _arguments_with_outs(c: Compiling, args: tuple[A.Argument, ...]) -> ArgumentsWithOuts:
    # Each: the value's closure, or None for an `out` with the variable's name and declaration.
    specs: list[tuple[Fn | None, str | None, str | None]] = []
    for arg in args:
        if arg.out:
            name = arg.value.name if isinstance(arg.value, A.Name) else None
            specs.append((None, name, arg.declares))
        else:
            specs.append((c.expr(arg.value), None, None))

    def arguments(run: Run, scope: Locals) -> tuple[list[object], list[OutTarget]]:
        values: list[object] = []
        outs: list[OutTarget] = []
        for value, name, declares in specs:
            if value is not None:
                values.append(value(run, scope))
                continue
            owner = None if declares else (scope.find(name) if name else None)
            if declares:
                scope.names[declares] = None
            outs.append((name, owner))
        return values, outs

    return arguments


def compile_new(c: Compiling, node: A.New) -> Fn:
    """`new ...`: the library's `construct`, handed the compiled parts it asks for."""
    parts: dict[int, Fn] = {}
    for part in (*(a.value for a in node.args), *node.items, *(v for _, v in node.entries)):
        parts[id(part)] = c.expr(part)
        if isinstance(part, A.New) and part.type is None and len(part.items) == 2:
            for item in part.items:  # `{ key, value }` pairs are read item by item
                parts[id(item)] = c.expr(item)
    for key, _ in node.entries:
        if isinstance(key, A.Node):
            parts[id(key)] = c.expr(key)
    if node.array_size is not None:
        parts[id(node.array_size)] = c.expr(node.array_size)

    def new(run: Run, scope: Locals) -> object:
        return construct(node, lambda part: parts[id(part)](run, scope))

    return new
