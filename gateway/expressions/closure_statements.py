"""Compiling the statements of `@{ ... }` bodies and block lambdas: blocks and locals, `if`,
the loops, `switch`, `try`, `return`, `break`, `continue` and `throw`.

Scopes are made where the interpreter makes them (interpreter.py, `execute` and its helpers),
so that a name means the same in both. Jumps come back as values (compiled.py); the
interpreter's jump exceptions are still caught by loops and switches, and raised where a jump
leaves a lambda or the whole body, because a lambda's `break` reaches through the library
call that runs the lambda exactly as it does in the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions.coerce import iterate
from gateway.expressions.compiled import (
    BREAK,
    CONTINUE,
    Compiling,
    Fn,
    Returned,
    Run,
    failing,
    spend,
)
from gateway.expressions.conversions import declared
from gateway.expressions.evaluation import BreakSignal, ContinueSignal, ErrorInfo, Locals
from gateway.expressions.values import ExpressionError, to_text, truthy, unwrap


def compile_block(c: Compiling, node: A.Block) -> Fn:
    """A block's body in a scope of its own; local functions are made first (hoisted)."""
    hoisted = [
        (s.name, c.function(s.params, s.body))
        for s in node.statements
        if isinstance(s, A.LocalFunction)
    ]
    statements = [c.statement(s) for s in node.statements]

    def block(run: Run, scope: Locals) -> object:
        inner = Locals(scope)
        for name, make in hoisted:
            inner.names[name] = make(run, inner)
        for statement in statements:
            jump = statement(run, inner)
            if jump is not None:
                return jump
        return None

    return block


def compile_statement(c: Compiling, node: A.Node) -> Fn:
    """A statement, without the step it is charged (the compiler adds that)."""
    make = _STATEMENTS.get(type(node))
    if make is None:
        return failing(f"unsupported statement {type(node).__name__}")
    return make(c, node)


def finish(jump: object) -> object:
    """What a block lambda or a whole body gives back: its returned value, or None; a `break`
    or `continue` with no loop around leaves as the interpreter's exception."""
    if type(jump) is Returned:
        return jump.value
    if jump is BREAK:
        raise BreakSignal()
    if jump is CONTINUE:
        raise ContinueSignal()
    return None


def _loop_body(body: Fn, run: Run, scope: Locals) -> object:
    """One iteration: None to go on, BREAK to stop, a Returned to leave."""
    try:
        jump = body(run, scope)
    except BreakSignal:
        return BREAK
    except ContinueSignal:
        return None
    return None if jump is CONTINUE else jump


def _expression_statement(c: Compiling, node: A.ExprStatement) -> Fn:
    expression = c.expr(node.expression)

    def run_it(run: Run, scope: Locals) -> object:
        expression(run, scope)
        return None

    return run_it


def _stored(value: Fn, store: Callable[[object], object]) -> Fn:
    return lambda run, scope: store(value(run, scope))


def _declare(c: Compiling, node: A.Declare) -> Fn:
    names = [(name, None if value is None else c.expr(value)) for name, value in node.names]
    store = declared(None if node.type is None else str(node.type))
    if store is not None:  # a `long` local: its value is made a Long (conversions.declared)
        names = [(name, value and _stored(value, store)) for name, value in names]

    def declare(run: Run, scope: Locals) -> object:
        for name, value in names:
            scope.names[name] = None if value is None else value(run, scope)
        return None

    return declare


def _return(c: Compiling, node: A.Return) -> Fn:
    if node.value is None:
        return lambda run, scope: Returned(None)
    value = c.expr(node.value)
    return lambda run, scope: Returned(value(run, scope))


def _if(c: Compiling, node: A.If) -> Fn:
    condition, then = c.expr(node.condition), c.statement(node.then)
    otherwise = None if node.otherwise is None else c.statement(node.otherwise)

    def if_(run: Run, scope: Locals) -> object:
        if truthy(condition(run, scope)):
            return then(run, Locals(scope))
        if otherwise is not None:
            return otherwise(run, Locals(scope))
        return None

    return if_


def _local_function(c: Compiling, node: A.LocalFunction) -> Fn:
    make, name = c.function(node.params, node.body), node.name

    def define(run: Run, scope: Locals) -> object:
        scope.names[name] = make(run, scope)
        return None

    return define


def _for_each(c: Compiling, node: A.ForEach) -> Fn:
    iterable, body, name = c.expr(node.iterable), c.statement(node.body), node.name

    def for_each(run: Run, scope: Locals) -> object:
        for item in iterate(iterable(run, scope)):
            inner = Locals(scope)
            inner.names[name] = item
            jump = _loop_body(body, run, inner)
            if jump is not None:
                return None if jump is BREAK else jump
        return None

    return for_each


def _for(c: Compiling, node: A.For) -> Fn:
    inits = [c.statement(i) if isinstance(i, A.Declare) else c.expr(i) for i in node.init]
    condition = None if node.condition is None else c.expr(node.condition)
    updates, body = [c.expr(u) for u in node.update], c.statement(node.body)
    ticks = c.ticks

    def for_(run: Run, scope: Locals) -> object:
        inner = Locals(scope)
        for init in inits:
            init(run, inner)
        while condition is None or truthy(condition(run, inner)):
            if ticks:
                spend(run)
            jump = _loop_body(body, run, Locals(inner))
            if jump is not None:
                return None if jump is BREAK else jump
            for update in updates:
                update(run, inner)
        return None

    return for_


def _while(c: Compiling, node: A.While) -> Fn:
    condition, body, do_while = c.expr(node.condition), c.statement(node.body), node.do_while
    ticks = c.ticks

    def while_(run: Run, scope: Locals) -> object:
        if do_while:
            jump = _loop_body(body, run, Locals(scope))
            if jump is not None:
                return None if jump is BREAK else jump
        while truthy(condition(run, scope)):
            if ticks:
                spend(run)
            jump = _loop_body(body, run, Locals(scope))
            if jump is not None:
                return None if jump is BREAK else jump
        return None

    return while_


def _try(c: Compiling, node: A.Try) -> Fn:
    body = c.block(node.body)
    handler = None if node.handler is None else c.block(node.handler)
    final = None if node.final is None else c.block(node.final)
    catch_name = node.catch_name

    def try_(run: Run, scope: Locals) -> object:
        try:
            jump = body(run, scope)
        except ExpressionError as error:
            if handler is None:
                raise
            inner = Locals(scope)
            if catch_name:
                inner.names[catch_name] = ErrorInfo(error.message)
            jump = handler(run, inner)
        finally:
            if final is not None:
                final_jump = final(run, scope)
                if final_jump is not None:  # a jump out of `finally` wins, as it does there
                    return final_jump  # noqa: B012
        return jump

    return try_


def _switch(c: Compiling, node: A.Switch) -> Fn:
    value_of = c.expr(node.value)
    cases = [
        (
            [None if label is None else c.expr(label) for label in labels],
            [c.statement(s) for s in body],
        )
        for labels, body in node.cases
    ]

    def switch(run: Run, scope: Locals) -> object:
        value = unwrap(value_of(run, scope))
        chosen = None
        for labels, body in cases:
            for label in labels:
                if label is None or unwrap(label(run, scope)) == value:
                    chosen = body
                    break
            if chosen is not None:
                break
        if chosen is None:
            return None
        inner = Locals(scope)
        try:
            for statement in chosen:
                jump = statement(run, inner)
                if jump is not None:
                    return None if jump is BREAK else jump
        except BreakSignal:
            pass
        return None

    return switch


def _jump(c: Compiling, node: A.Jump) -> Fn:
    jump = BREAK if node.kind == "break" else CONTINUE
    return lambda run, scope: jump


def _throw(c: Compiling, node: A.Throw) -> Fn:
    if node.value is None:
        return failing("thrown")
    value = c.expr(node.value)

    def throw(run: Run, scope: Locals) -> object:
        raise ExpressionError(to_text(value(run, scope)))

    return throw


_STATEMENTS = {
    A.ExprStatement: _expression_statement,
    A.Declare: _declare,
    A.Return: _return,
    A.Block: compile_block,
    A.If: _if,
    A.LocalFunction: _local_function,
    A.ForEach: _for_each,
    A.For: _for,
    A.While: _while,
    A.Try: _try,
    A.Switch: _switch,
    A.Jump: _jump,
    A.Throw: _throw,
}
