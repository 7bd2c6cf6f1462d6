"""`new T(...)`, `new T { ... }`, `new[] { ... }` and anonymous objects."""

from __future__ import annotations

import random
from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions.allowance import allocate, allocate_items, joined
from gateway.expressions.coerce import to_int
from gateway.expressions.guids import make_guid
from gateway.expressions.regex import RegexObject
from gateway.expressions.statics import Hasher, canonical_type, make_date
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JProperty,
    JValue,
    to_text,
    to_token,
    unwrap,
)

# Evaluates a sub-expression in the scope of the `new` being built (the interpreter's).
Evaluate = Callable[[A.Node], object]

CONSTRUCTIBLE = frozenset(
    """JObject JArray JProperty JValue List Dictionary HashSet Random StringBuilder Uri
    HMACSHA256 HMACSHA1 Queue Stack Exception Regex DateTimeOffset object string byte int
    TimeSpan DateTime Guid""".split()
)


def construct(node: A.New, evaluate: Evaluate) -> object:
    args = [evaluate(a.value) for a in node.args]
    if node.type is None:
        if node.entries:
            return {str(k): evaluate(v) for k, v in node.entries}
        return [evaluate(item) for item in node.items]
    kind = canonical_type(node.type.name)
    if node.type.array:
        if node.array_size is not None:
            size = int(unwrap(evaluate(node.array_size)))  # type: ignore[call-overload]
            if size < 0:
                raise ExpressionError("an array's size cannot be negative")
            allocate_items(size)
            fill = 0 if kind in ("byte", "int", "long") else None
            return [fill] * size
        return [evaluate(item) for item in node.items]
    value = _instance(kind, args)
    for item in node.items:
        _add(value, item, evaluate)
    for key, item in node.entries:
        target_key = key if isinstance(key, str) else evaluate(key)
        item_value = evaluate(item)
        if isinstance(value, JObject):
            value.items[to_text(target_key)] = to_token(item_value)
        elif isinstance(value, dict):
            value[to_text(target_key)] = item_value
        else:
            raise ExpressionError(f"{kind} has no settable member '{to_text(target_key)}'")
    return value


def _instance(kind: str, args: list[object]) -> object:
    if kind == "JObject":
        result = JObject()
        for arg in args:
            for prop in arg if isinstance(arg, list) else [arg]:
                if not isinstance(prop, JProperty):
                    raise ExpressionError("new JObject(...) takes JProperty values")
                result.items[prop.name] = prop.value
        return result
    if kind == "JArray":
        items = args[0] if len(args) == 1 and isinstance(args[0], list) else args
        return JArray([to_token(a) for a in items])
    if kind == "JProperty":
        if len(args) != 2:
            raise ExpressionError("new JProperty(name, value) takes two arguments")
        value = args[1]
        if isinstance(value, list) and not isinstance(value, JArray):
            value = JArray([to_token(v) for v in value])
        return JProperty(to_text(args[0]), to_token(value))
    if kind == "JValue":
        return JValue(unwrap(args[0]) if args else None)
    if kind in ("List", "HashSet", "Queue", "Stack"):
        return list(args[0]) if args and isinstance(args[0], list) else []  # type: ignore[arg-type]
    if kind == "Dictionary":
        return {}
    if kind == "Random":
        return random.Random(args[0] if args else None)  # type: ignore[arg-type]
    if kind in ("HMACSHA256", "HMACSHA1"):
        key = args[0] if args and isinstance(args[0], bytes) else b""
        return Hasher("sha256" if kind == "HMACSHA256" else "sha1", key)
    if kind == "string":
        return _string(args)
    if kind == "Guid":
        return make_guid(args)
    if kind == "Regex":
        return RegexObject(to_text(args[0]), tuple(args[1:]))
    if kind in ("DateTimeOffset", "DateTime") and args:
        return make_date(args)
    if kind == "Exception":
        return to_text(args[0]) if args else "error"
    raise ExpressionError(f"'new {kind}' is not available in policy expressions")


def _string(args: list[object]) -> str:
    """`new string(c, count)` repeats a char; `new string(chars)` joins an array of them."""
    if len(args) == 2 and isinstance(args[0], str) and len(args[0]) == 1:
        count = to_int(args[1])
        if count < 0:
            raise ExpressionError("new string(c, count): count is less than zero")
        allocate(count)
        return args[0] * count
    if len(args) == 1 and isinstance(args[0], list):
        return joined([to_text(c) for c in args[0]])
    raise ExpressionError("new string(...) takes a char and a count, or an array of chars")


def _add(target: object, item: A.Node, evaluate: Evaluate) -> None:
    if isinstance(item, A.New) and item.type is None and len(item.items) == 2:
        key = evaluate(item.items[0])
        value = evaluate(item.items[1])
        if isinstance(target, JObject):
            target.items[to_text(key)] = to_token(value)
            return
        if isinstance(target, dict):
            target[to_text(key)] = value
            return
    value = evaluate(item)
    if isinstance(target, JArray):
        target.items.append(to_token(value))
    elif isinstance(target, JObject) and isinstance(value, JProperty):
        target.items[value.name] = value.value
    elif isinstance(target, list):
        target.append(value)
    else:
        raise ExpressionError("this collection initializer does not fit the type")
