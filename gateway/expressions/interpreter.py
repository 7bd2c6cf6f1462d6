"""Evaluate a parsed expression over a `ContextModel`, sandboxed and with a step budget.

A tree walker: each node type has one method. Names resolve to locals, then `context`, then
the static types the library knows. Every failure becomes `ExpressionError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from gateway.expressions import ast as A
from gateway.expressions import json_methods as J
from gateway.expressions import library as L
from gateway.expressions import statics as S
from gateway.expressions.coerce import OutResult, iterate
from gateway.expressions.construct import construct
from gateway.expressions.conversions import cast, is_instance, try_cast
from gateway.expressions.model import ContextModel, HeaderDictionary, ModelObject
from gateway.expressions.regex import RegexMatch
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JProperty,
    JToken,
    to_text,
    truthy,
    type_name,
    unwrap,
)


class _Return(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class StaticType:
    """A type name used as a value: the target of `DateTime.UtcNow` or `int.Parse`."""

    def __init__(self, name: str) -> None:
        self.name = S.canonical_type(name)


class Locals:
    """The local variables of one lexical scope (a block, a loop body, a lambda), chained to
    those of the scope around it."""

    __slots__ = ("names", "parent")

    def __init__(self, parent: Locals | None = None) -> None:
        self.names: dict[str, object] = {}
        self.parent = parent

    def find(self, name: str) -> Locals | None:
        scope: Locals | None = self
        while scope is not None:
            if name in scope.names:
                return scope
            scope = scope.parent
        return None


class Interpreter:
    def __init__(self, context: ContextModel, budget: int) -> None:
        self.context = context
        self.budget = budget

    def run(self, node: A.Node) -> object:
        scope = Locals()
        if isinstance(node, A.Block):
            try:
                self.block(node, scope)
            except _Return as result:
                return result.value
            raise ExpressionError("the block ended without a return statement")
        return self.eval(node, scope)

    # -- statements ---------------------------------------------------------------------------

    def block(self, node: A.Block, scope: Locals) -> None:
        inner = Locals(scope)
        for statement in node.statements:
            if isinstance(statement, A.LocalFunction):  # hoisted, as in C#
                _local_function(self, statement, inner)
        for statement in node.statements:
            self.execute(statement, inner)

    def execute(self, node: A.Node, scope: Locals) -> None:
        self.tick()
        kind = type(node)
        if kind is A.ExprStatement:
            self.eval(node.expression, scope)  # type: ignore[attr-defined]
        elif kind is A.Declare:
            for name, value in node.names:  # type: ignore[attr-defined]
                scope.names[name] = None if value is None else self.eval(value, scope)
        elif kind is A.Return:
            value = node.value  # type: ignore[attr-defined]
            raise _Return(None if value is None else self.eval(value, scope))
        elif kind is A.Block:
            self.block(node, scope)  # type: ignore[arg-type]
        elif kind is A.If:
            if truthy(self.eval(node.condition, scope)):  # type: ignore[attr-defined]
                self.execute(node.then, Locals(scope))  # type: ignore[attr-defined]
            elif node.otherwise is not None:  # type: ignore[attr-defined]
                self.execute(node.otherwise, Locals(scope))  # type: ignore[attr-defined]
        else:
            handler = _STATEMENTS.get(kind)
            if handler is None:
                raise ExpressionError(f"unsupported statement {kind.__name__}")
            handler(self, node, scope)

    def for_each(self, node: A.ForEach, scope: Locals) -> None:
        for item in iterate(self.eval(node.iterable, scope)):
            inner = Locals(scope)
            inner.names[node.name] = item
            if self.loop_body(node.body, inner):
                break

    def loop_body(self, body: A.Node, scope: Locals) -> bool:
        """Run one iteration; True when the loop must stop (break)."""
        try:
            self.execute(body, scope)
        except _Break:
            return True
        except _Continue:
            pass
        return False

    def for_loop(self, node: A.For, scope: Locals) -> None:
        inner = Locals(scope)
        for init in node.init:
            if isinstance(init, A.Declare):
                self.execute(init, inner)
            else:
                self.eval(init, inner)
        while node.condition is None or truthy(self.eval(node.condition, inner)):
            self.tick()
            if self.loop_body(node.body, Locals(inner)):
                break
            for update in node.update:
                self.eval(update, inner)

    def while_loop(self, node: A.While, scope: Locals) -> None:
        if node.do_while and self.loop_body(node.body, Locals(scope)):
            return
        while truthy(self.eval(node.condition, scope)):
            self.tick()
            if self.loop_body(node.body, Locals(scope)):
                break

    def try_statement(self, node: A.Try, scope: Locals) -> None:
        try:
            self.block(node.body, scope)
        except ExpressionError as error:
            if node.handler is None:
                raise
            inner = Locals(scope)
            if node.catch_name:
                inner.names[node.catch_name] = _ErrorInfo(error.message)
            self.block(node.handler, inner)
        finally:
            if node.final is not None:
                self.block(node.final, scope)

    def switch(self, node: A.Switch, scope: Locals) -> None:
        value = unwrap(self.eval(node.value, scope))
        chosen = None
        for labels, body in node.cases:
            for label in labels:
                if label is None or unwrap(self.eval(label, scope)) == value:
                    chosen = body
                    break
            if chosen is not None:
                break
        if chosen is None:
            return
        inner = Locals(scope)
        try:
            for statement in chosen:
                self.execute(statement, inner)
        except _Break:
            pass

    def tick(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise ExpressionError("the expression ran too long (its step budget is spent)")

    # -- expressions --------------------------------------------------------------------------

    def eval(self, node: A.Node, scope: Locals) -> Any:
        self.tick()
        handler = _EXPRESSIONS.get(type(node))
        if handler is None:
            raise ExpressionError(f"unsupported expression {type(node).__name__}")
        return handler(self, node, scope)

    def name(self, node: A.Name, scope: Locals) -> object:
        found = scope.find(node.name)
        if found is not None:
            return found.names[node.name]
        if node.name == "context":
            return self.context
        if S.canonical_type(node.name) in S.STATIC_TYPES or node.name in S.STATIC_TYPES:
            return StaticType(node.name)
        raise ExpressionError(f"unknown name '{node.name}'")

    def member(self, node: A.Member, scope: Locals) -> object:
        target = self.member_target(node, scope)
        if target is None and node.null_conditional:
            return None
        if isinstance(target, StaticType):
            return S.static_member(target.name, node.name)
        return L.member(target, node.name)

    def member_target(self, node: A.Member, scope: Locals) -> object:
        if isinstance(node.target, A.Name) and node.target.name not in ("", "context"):
            qualified = _qualified_name(node.target)
            if scope.find(node.target.name) is None and S.simple_type(qualified) != qualified:
                return StaticType(qualified)
        if isinstance(node.target, A.Member):
            qualified = _qualified_name(node.target)
            if qualified and S.canonical_type(qualified) in S.STATIC_TYPES:
                return StaticType(qualified)
        return self.eval(node.target, scope)

    def call(self, node: A.Call, scope: Locals) -> object:
        callee = node.target
        if isinstance(callee, A.Name):
            function = self.name(callee, scope)
            if not callable(function):
                raise ExpressionError(f"'{callee.name}' is not a method")
            return function(*self.arguments(node.args, scope)[0])
        if not isinstance(callee, A.Member):
            raise ExpressionError("only methods can be called")
        target = self.member_target(callee, scope)
        if target is None and callee.null_conditional:
            return None
        args, outs = self.arguments(node.args, scope)
        type_args = tuple(str(t) for t in callee.type_args)
        if isinstance(target, StaticType):
            result = self.static_call(target.name, callee.name, args, type_args)
        elif isinstance(target, ContextModel) and callee.name == "Variables":
            raise ExpressionError("Variables is not a method")
        elif isinstance(target, dict) and target is self.context.Variables:
            result = self.variables_call(callee.name, args, type_args)
        else:
            result = L.call_method(target, callee.name, args, type_args)
        if isinstance(result, OutResult):
            for (name, target_scope), value in zip(outs, result.outs, strict=False):
                if name is not None:
                    (target_scope or scope).names[name] = value
            return result.value
        return result

    def arguments(
        self, args: tuple[A.Argument, ...], scope: Locals
    ) -> tuple[list[object], list[tuple[str | None, Locals | None]]]:
        values: list[object] = []
        outs: list[tuple[str | None, Locals | None]] = []
        for arg in args:
            if arg.out:
                name = arg.value.name if isinstance(arg.value, A.Name) else None
                owner = None if arg.declares else (scope.find(name) if name else None)
                if arg.declares:
                    scope.names[arg.declares] = None
                outs.append((name, owner))
                continue
            values.append(self.eval(arg.value, scope))
        return values, outs

    def static_call(
        self, type_name_: str, name: str, args: list[object], type_args: tuple[str, ...]
    ) -> object:
        function = S.STATIC_METHODS.get((type_name_, name))
        if function is None:
            raise ExpressionError(f"{type_name_}.{name}() is not available in policy expressions")
        try:
            return function(*args)
        except TypeError:
            raise ExpressionError(f"{type_name_}.{name}() got the wrong arguments") from None

    def variables_call(self, name: str, args: list[object], type_args: tuple[str, ...]) -> object:
        variables = self.context.Variables
        if name == "GetValueOrDefault":
            key = to_text(args[0])
            if key not in variables:
                if len(args) > 1:
                    return args[1]
                return default_of(type_args[0]) if type_args else None
            value = variables[key]
            return cast(type_args[0], value) if type_args else value
        return L.call_method(variables, name, args, type_args)

    def index(self, node: A.Index, scope: Locals) -> object:
        target = self.eval(node.target, scope)
        if target is None and node.null_conditional:
            return None
        key = self.eval(node.args[0], scope)
        return _get_index(target, key, self.context)

    def literal(self, node: A.Literal, scope: Locals) -> object:
        return node.value

    def interpolated(self, node: A.Interpolated, scope: Locals) -> str:
        out = []
        for part in node.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                expression, spec = part  # type: ignore[misc]
                value = self.eval(expression, scope)
                out.append(L.call_method(value, "ToString", [spec], ()) if spec else to_text(value))
        return "".join(out)  # type: ignore[arg-type]

    def unary(self, node: A.Unary, scope: Locals) -> object:
        value = unwrap(self.eval(node.operand, scope))
        if node.op == "!":
            return not truthy(value)
        if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
            raise ExpressionError(f"'{node.op}' needs a number, got {type_name(value)}")
        return -value if node.op == "-" else (~value if node.op == "~" else value)  # type: ignore[operator]

    def binary(self, node: A.Binary, scope: Locals) -> object:
        op = node.op
        if op == "&&":
            return truthy(self.eval(node.left, scope)) and truthy(self.eval(node.right, scope))
        if op == "||":
            return truthy(self.eval(node.left, scope)) or truthy(self.eval(node.right, scope))
        left = self.eval(node.left, scope)
        if op == "??":
            return left if left is not None else self.eval(node.right, scope)
        return binary_op(op, left, self.eval(node.right, scope))

    def conditional(self, node: A.Conditional, scope: Locals) -> object:
        if truthy(self.eval(node.condition, scope)):
            return self.eval(node.then, scope)
        return self.eval(node.otherwise, scope)

    def cast_node(self, node: A.Cast, scope: Locals) -> object:
        return cast(str(node.type), self.eval(node.operand, scope))

    def type_test(self, node: A.TypeTest, scope: Locals) -> object:
        value = self.eval(node.operand, scope)
        if node.op == "as":
            return try_cast(str(node.type), value)
        matched = is_instance(str(node.type), value)
        if matched and node.declares:
            scope.names[node.declares] = value
        return matched

    def assign(self, node: A.Assign, scope: Locals) -> object:
        value = self.eval(node.value, scope)
        if node.op != "=":
            current = self.eval(node.target, scope)
            if node.op == "??=":
                value = current if current is not None else value
            else:
                value = binary_op(node.op[:-1], current, value)
        self.store(node.target, value, scope)
        return value

    def store(self, target: A.Node, value: object, scope: Locals) -> None:
        if isinstance(target, A.Name):
            owner = scope.find(target.name)
            if owner is None:
                raise ExpressionError(f"'{target.name}' is not a declared variable")
            owner.names[target.name] = value
        elif isinstance(target, A.Index):
            container = self.eval(target.target, scope)
            key = self.eval(target.args[0], scope)
            _set_index(container, key, value, self.context)
        else:
            raise ExpressionError("policy expressions cannot assign to members of context")

    def step(self, node: A.Step, scope: Locals) -> object:
        current = unwrap(self.eval(node.target, scope))
        updated = binary_op("+" if node.op == "++" else "-", current, 1)
        self.store(node.target, updated, scope)
        return updated if node.prefix else current

    def lambda_node(self, node: A.Lambda, scope: Locals) -> Callable[..., object]:
        def invoke(*args: object) -> object:
            inner = Locals(scope)
            for name, arg in zip(node.params, args, strict=False):
                inner.names[name] = arg
            if isinstance(node.body, A.Block):
                try:
                    self.block(node.body, inner)
                except _Return as result:
                    return result.value
                return None
            return self.eval(node.body, inner)

        return invoke

    def new(self, node: A.New, scope: Locals) -> object:
        return construct(node, lambda inner: self.eval(inner, scope))

    def typeof(self, node: A.TypeOf, scope: Locals) -> object:
        return str(node.type)

    def default(self, node: A.Default, scope: Locals) -> object:
        return None if node.type is None else default_of(str(node.type))


def default_of(type_name_: str) -> object:
    """`default(T)`: zero for numbers, false for bool, null for everything else."""
    kind = S.canonical_type(type_name_)
    return {"int": 0, "long": 0, "double": 0.0, "float": 0.0, "bool": False}.get(kind)


class _ErrorInfo(ModelObject):
    EXTRA_MEMBERS = frozenset({"Message"})

    def __init__(self, message: str) -> None:
        self.Message = message


def _qualified_name(node: A.Node) -> str:
    if isinstance(node, A.Name):
        return node.name
    if isinstance(node, A.Member) and not node.null_conditional:
        inner = _qualified_name(node.target)
        return f"{inner}.{node.name}" if inner else ""
    return ""


def _get_index(target: object, key: object, context: ContextModel) -> object:
    if isinstance(target, JToken):
        return J.get_item(target, unwrap(key))
    if isinstance(target, dict):
        text = to_text(key)
        if text not in target:
            where = "context.Variables" if target is context.Variables else "the dictionary"
            raise ExpressionError(f"'{text}' is not in {where}; use GetValueOrDefault")
        return target[text]
    if isinstance(target, HeaderDictionary):
        values = target.get(to_text(key))
        if values is None:
            raise ExpressionError(f"there is no header '{to_text(key)}'")
        return values
    if isinstance(target, list | tuple | str | bytes):
        index = unwrap(key)
        if not isinstance(index, int) or not -1 < index < len(target):
            raise ExpressionError(f"index {to_text(key)} is outside the array")
        return target[index]
    if isinstance(target, RegexMatch | dict):
        return target[to_text(key)]  # type: ignore[index]
    if target is None:
        raise ExpressionError("cannot index into null (a null reference)")
    raise ExpressionError(f"a {type_name(target)} cannot be indexed")


def _set_index(target: object, key: object, value: object, context: ContextModel) -> None:
    if isinstance(target, JToken):
        J.set_item(target, unwrap(key), value)
    elif isinstance(target, dict):
        if target is context.Variables:
            raise ExpressionError("context.Variables is read-only; use set-variable")
        target[to_text(key)] = value
    elif isinstance(target, list) and isinstance(unwrap(key), int):
        target[unwrap(key)] = value  # type: ignore[index]
    else:
        raise ExpressionError(f"a {type_name(target)} cannot be assigned into")


def _number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def binary_op(op: str, left: object, right: object) -> object:
    a, b = unwrap(left), unwrap(right)
    if op == "==":
        return _equals(left, right)
    if op == "!=":
        return not _equals(left, right)
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return to_text(left) + to_text(right)
    if op == "+" and isinstance(a, datetime) and isinstance(b, timedelta):
        return a + b
    if op == "-" and isinstance(a, datetime) and isinstance(b, datetime | timedelta):
        return a - b
    if op in ("&", "|", "^") and isinstance(a, bool) and isinstance(b, bool):
        return {"&": a and b, "|": a or b, "^": a != b}[op]
    if a is None or b is None:
        if op in ("<", ">", "<=", ">="):
            return False
        if op in ("+", "-", "*", "/", "%"):
            return None
    if isinstance(a, datetime | timedelta) and type(a) is type(b):
        return _compare(op, a, b)
    if not (_number(a) and _number(b)):
        raise ExpressionError(f"'{op}' cannot combine {type_name(a)} and {type_name(b)}")
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        a, b = Decimal(str(a)), Decimal(str(b))
    if op in ("<", ">", "<=", ">="):
        return _compare(op, a, b)
    return _arithmetic(op, a, b)  # type: ignore[arg-type]


def _compare(op: str, a: Any, b: Any) -> bool:
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def _arithmetic(op: str, a: Any, b: Any) -> object:
    both_int = isinstance(a, int) and isinstance(b, int)
    if op in ("/", "%") and b == 0:
        if both_int or isinstance(a, Decimal):
            raise ExpressionError("division by zero")
        return float("nan") if a == 0 or op == "%" else (float("inf") if a > 0 else float("-inf"))
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if both_int:
            quotient = abs(a) // abs(b)
            return quotient if (a >= 0) == (b >= 0) else -quotient
        return a / b
    if op == "%":
        if both_int:
            remainder = abs(a) % abs(b)
            return remainder if a >= 0 else -remainder
        return a % b
    if op in ("&", "|", "^", "<<", ">>") and both_int:
        return {"&": a & b, "|": a | b, "^": a ^ b, "<<": a << b, ">>": a >> b}[op]
    raise ExpressionError(f"unsupported operator '{op}'")


def _equals(left: object, right: object) -> bool:
    a, b = unwrap(left), unwrap(right)
    if isinstance(left, JObject | JArray | JProperty) or isinstance(
        right, JObject | JArray | JProperty
    ):
        return left is right
    if _number(a) and _number(b):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    if type(a) is not type(b) and a is not None and b is not None:
        return to_text(a) == to_text(b) if isinstance(a, str) or isinstance(b, str) else a == b
    return a == b


_EXPRESSIONS: dict[type, Callable[..., Any]] = {
    A.Literal: Interpreter.literal,
    A.Interpolated: Interpreter.interpolated,
    A.Name: Interpreter.name,
    A.Member: Interpreter.member,
    A.Call: Interpreter.call,
    A.Index: Interpreter.index,
    A.Unary: Interpreter.unary,
    A.Binary: Interpreter.binary,
    A.Conditional: Interpreter.conditional,
    A.Cast: Interpreter.cast_node,
    A.TypeTest: Interpreter.type_test,
    A.Assign: Interpreter.assign,
    A.Step: Interpreter.step,
    A.Lambda: Interpreter.lambda_node,
    A.New: Interpreter.new,
    A.TypeOf: Interpreter.typeof,
    A.Default: Interpreter.default,
}


def _local_function(interpreter: Interpreter, node: A.LocalFunction, scope: Locals) -> None:
    scope.names[node.name] = interpreter.lambda_node(
        A.Lambda(node.offset, node.params, node.body), scope
    )


_STATEMENTS: dict[type, Callable[..., Any]] = {
    A.LocalFunction: _local_function,
    A.ForEach: Interpreter.for_each,
    A.For: Interpreter.for_loop,
    A.While: Interpreter.while_loop,
    A.Try: Interpreter.try_statement,
    A.Switch: Interpreter.switch,
    A.Jump: lambda self, node, scope: (_ for _ in ()).throw(
        _Break() if node.kind == "break" else _Continue()
    ),
    A.Throw: lambda self, node, scope: (_ for _ in ()).throw(
        ExpressionError(to_text(self.eval(node.value, scope)) if node.value else "thrown")
    ),
}
