"""Evaluate a parsed expression over a `ContextModel`, sandboxed and with a step budget.

A tree walker: each node type has one method. Names resolve to locals, then `context`, then
the static types the library knows. Every failure becomes `ExpressionError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.expressions import ast as A
from gateway.expressions import library as L
from gateway.expressions import statics as S
from gateway.expressions.allowance import charged
from gateway.expressions.coerce import iterate
from gateway.expressions.construct import construct
from gateway.expressions.conversions import cast, declared, is_instance, try_cast
from gateway.expressions.evaluation import (
    BUDGET_SPENT,
    BreakSignal,
    ContinueSignal,
    ErrorInfo,
    Locals,
    OutTarget,
    ReturnSignal,
    StaticType,
    bind_outs,
    call_on,
    dotted_type_name,
    is_static_type_name,
    prefixed_type_name,
)
from gateway.expressions.model import ContextModel
from gateway.expressions.operators import (
    binary_op,
    default_of,
    get_index,
    set_index,
    unary_op,
)
from gateway.expressions.values import ExpressionError, to_text, truthy, unwrap


class Interpreter:
    def __init__(self, context: ContextModel, budget: int) -> None:
        self.context = context
        self.budget = budget

    def run(self, node: A.Node) -> object:
        scope = Locals()
        if isinstance(node, A.Block):
            try:
                self.block(node, scope)
            except ReturnSignal as result:
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
            kind = node.type  # type: ignore[attr-defined]
            store = declared(None if kind is None else str(kind))
            for name, value in node.names:  # type: ignore[attr-defined]
                held = None if value is None else self.eval(value, scope)
                scope.names[name] = held if store is None else store(held)
        elif kind is A.Return:
            value = node.value  # type: ignore[attr-defined]
            raise ReturnSignal(None if value is None else self.eval(value, scope))
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
        except BreakSignal:
            return True
        except ContinueSignal:
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
                inner.names[node.catch_name] = ErrorInfo(error.message)
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
        except BreakSignal:
            pass

    def tick(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise ExpressionError(BUDGET_SPENT)

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
        if is_static_type_name(node.name):
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
        prefixed = prefixed_type_name(node.target)
        if prefixed is not None and scope.find(prefixed) is None:
            return StaticType(prefixed)
        dotted = dotted_type_name(node.target)
        if dotted is not None:
            return StaticType(dotted)
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
        result = call_on(target, callee.name, args, type_args, self.context)
        return bind_outs(result, outs, scope)

    def arguments(
        self, args: tuple[A.Argument, ...], scope: Locals
    ) -> tuple[list[object], list[OutTarget]]:
        values: list[object] = []
        outs: list[OutTarget] = []
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

    def index(self, node: A.Index, scope: Locals) -> object:
        target = self.eval(node.target, scope)
        if target is None and node.null_conditional:
            return None
        key = self.eval(node.args[0], scope)
        return get_index(target, key, self.context)

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
        return charged("".join(out))  # type: ignore[arg-type]

    def unary(self, node: A.Unary, scope: Locals) -> object:
        return unary_op(node.op, self.eval(node.operand, scope))

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
            set_index(container, key, value, self.context)
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
                except ReturnSignal as result:
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
        BreakSignal() if node.kind == "break" else ContinueSignal()
    ),
    A.Throw: lambda self, node, scope: (_ for _ in ()).throw(
        ExpressionError(to_text(self.eval(node.value, scope)) if node.value else "thrown")
    ),
}
