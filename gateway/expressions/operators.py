"""What C#'s operators do to policy-expression values: arithmetic, comparison, equality,
indexing, `default(T)`. Shared by the interpreter and the compiled closures, so both give the
same answers and the same errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from gateway.expressions import json_methods as J
from gateway.expressions import statics as S
from gateway.expressions.allowance import CHARGE_FROM, allocate
from gateway.expressions.model import ContextModel, HeaderDictionary
from gateway.expressions.regex import RegexMatch
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JProperty,
    JToken,
    integral,
    is_long,
    to_text,
    truthy,
    type_name,
    unwrap,
)


def default_of(type_name_: str) -> object:
    """`default(T)`: zero for numbers, false for bool, null for everything else."""
    kind = S.canonical_type(type_name_)
    return {"int": 0, "long": 0, "double": 0.0, "float": 0.0, "bool": False}.get(kind)


def unary_op(op: str, operand: object) -> object:
    """`!x`, `-x`, `+x`, `~x`."""
    value = unwrap(operand)
    if op == "!":
        return not truthy(value)
    if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        raise ExpressionError(f"'{op}' needs a number, got {type_name(value)}")
    if op == "-":
        return integral(-value, value, 0) if isinstance(value, int) else -value
    return ~value if op == "~" else value  # type: ignore[operator]


def get_index(target: object, key: object, context: ContextModel) -> object:
    """`target[key]`."""
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


def set_index(target: object, key: object, value: object, context: ContextModel) -> None:
    """`target[key] = value`."""
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
    """`left op right` for every operator but the short-circuiting `&&`, `||` and `??`."""
    a, b = unwrap(left), unwrap(right)
    if op == "==":
        return equals(left, right)
    if op == "!=":
        return not equals(left, right)
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        text = to_text(left) + to_text(right)
        if len(text) > CHARGE_FROM:  # at most twice its operands: charged once made
            allocate(len(text))
        return text
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


def binary_function(op: str) -> Callable[[object, object], object]:
    """`binary_op` with its operator chosen once: what a compiled expression calls."""
    if op == "==":
        return equals
    if op == "!=":
        return not_equals
    return partial(binary_op, op)


def _compare(op: str, a: Any, b: Any) -> bool:
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def _arithmetic(op: str, a: Any, b: Any) -> object:
    both_int = isinstance(a, int) and isinstance(b, int)
    if op in ("/", "%") and b == 0:
        if both_int or isinstance(a, Decimal):
            raise ExpressionError("division by zero")
        return float("nan") if a == 0 or op == "%" else (float("inf") if a > 0 else float("-inf"))
    if op == "+":
        result = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    else:
        result = None
    if result is not None:
        # Two ints whose result fits an int, the common case, decided here without a call.
        if not both_int or (
            -2147483648 <= result <= 2147483647 and type(a) is int and type(b) is int
        ):
            return result
        return integral(result, a, b)
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
    if op in ("<<", ">>") and both_int:  # C# takes the count modulo the width
        count = b & (63 if is_long(a) else 31)
        return integral(a << count, a, 0) if op == "<<" else integral(a >> count, a, 0)
    if op in ("&", "|", "^") and both_int:
        return integral({"&": a & b, "|": a | b, "^": a ^ b}[op], a, b)
    raise ExpressionError(f"unsupported operator '{op}'")


def equals(left: object, right: object) -> bool:
    """C#'s `==` as policy expressions see it (JSON containers compare by identity)."""
    if type(left) is str and type(right) is str:  # the commonest comparison, first
        return left == right
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


def not_equals(left: object, right: object) -> bool:
    return not equals(left, right)
