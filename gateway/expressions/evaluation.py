"""What the two evaluators of a parsed expression share besides operators: scopes of locals,
static types used as values, the signals of `return`/`break`/`continue`, and the calls whose
receiver is a static type or `context.Variables`.

The interpreter (interpreter.py) walks the tree per evaluation and is the reference; the
compiled closures (closures.py) decide once what the tree allows and must agree with it.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions import library as L
from gateway.expressions import statics as S
from gateway.expressions.coerce import OutResult
from gateway.expressions.conversions import cast
from gateway.expressions.model import ContextModel, ModelObject
from gateway.expressions.operators import default_of
from gateway.expressions.values import ExpressionError, to_text

BUDGET_SPENT = "the expression ran too long (its step budget is spent)"


class ReturnSignal(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class BreakSignal(Exception):
    pass


class ContinueSignal(Exception):
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


class ErrorInfo(ModelObject):
    """What `catch (Exception e)` binds: `e.Message`."""

    EXTRA_MEMBERS = frozenset({"Message"})

    def __init__(self, message: str) -> None:
        self.Message = message


def is_static_type_name(name: str) -> bool:
    return S.canonical_type(name) in S.STATIC_TYPES or name in S.STATIC_TYPES


def prefixed_type_name(target: A.Node) -> str | None:
    """The name of a bare namespace-prefixed type used as a member's target (a local of that
    name, if there is one, wins)."""
    if (
        isinstance(target, A.Name)
        and target.name not in ("", "context")
        and S.simple_type(target.name) != target.name
    ):
        return target.name
    return None


def dotted_type_name(target: A.Node) -> str | None:
    """`System.String` in `System.String.Empty`: a member chain that names a static type."""
    if isinstance(target, A.Member):
        qualified = A.qualified_name(target)
        if qualified and S.canonical_type(qualified) in S.STATIC_TYPES:
            return qualified
    return None


def static_method(type_name_: str, name: str) -> Callable[[list[object]], object]:
    """`Type.name`, looked up once: called with the arguments, it gives `Type.name(args)`."""
    function = S.STATIC_METHODS.get((type_name_, name))

    def call(args: list[object]) -> object:
        if function is None:
            raise ExpressionError(f"{type_name_}.{name}() is not available in policy expressions")
        try:
            return function(*args)
        except TypeError:
            raise ExpressionError(f"{type_name_}.{name}() got the wrong arguments") from None

    return call


def static_call(type_name_: str, name: str, args: list[object]) -> object:
    """`Type.name(args)`."""
    return static_method(type_name_, name)(args)


def variables_call(
    variables: dict[str, object], name: str, args: list[object], type_args: tuple[str, ...]
) -> object:
    """`context.Variables.name<type_args>(args)`."""
    if name == "GetValueOrDefault":
        key = to_text(args[0])
        if key not in variables:
            if len(args) > 1:
                return args[1]
            return default_of(type_args[0]) if type_args else None
        value = variables[key]
        return cast(type_args[0], value) if type_args else value
    return L.call_method(variables, name, args, type_args)


def call_on(
    receiver: object,
    name: str,
    args: list[object],
    type_args: tuple[str, ...],
    context: ContextModel,
) -> object:
    """`receiver.name<type_args>(args)` once the receiver is known: a static type's method,
    `context.Variables`' own methods, else the library's method for the value."""
    if isinstance(receiver, StaticType):
        return static_call(receiver.name, name, args)
    if isinstance(receiver, ContextModel) and name == "Variables":
        raise ExpressionError("Variables is not a method")
    if isinstance(receiver, dict) and receiver is context.Variables:
        return variables_call(receiver, name, args, type_args)
    return L.call_method(receiver, name, args, type_args)


# Where a call's `out` argument goes: the variable's name and the scope that already holds it
# (None: the call's own scope).
OutTarget = tuple[str | None, Locals | None]


def bind_outs(result: object, outs: list[OutTarget], scope: Locals) -> object:
    """A call's value; an `OutResult`'s out values are stored into their variables first."""
    if isinstance(result, OutResult):
        for (name, target_scope), value in zip(outs, result.outs, strict=False):
            if name is not None:
                (target_scope or scope).names[name] = value
        return result.value
    return result
