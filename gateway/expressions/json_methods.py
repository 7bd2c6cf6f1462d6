"""Newtonsoft.Json members and methods on JObject, JArray, JValue and JProperty."""

from __future__ import annotations

from gateway.expressions import linq
from gateway.expressions.coerce import OutResult, iterate
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JProperty,
    JToken,
    JValue,
    to_text,
    to_token,
)

_TOKEN_TYPES = {JObject: "Object", JArray: "Array", JProperty: "Property"}


def token_type(token: JToken) -> str:
    if isinstance(token, JValue):
        value = token.value
        if value is None:
            return "Null"
        if isinstance(value, bool):
            return "Boolean"
        if isinstance(value, int):
            return "Integer"
        if isinstance(value, float):
            return "Float"
        return "String"
    return _TOKEN_TYPES.get(type(token), "None")


def json_member(token: JToken, name: str) -> object:
    if name == "Type":
        return f"JTokenType.{token_type(token)}"
    if name == "Count" and isinstance(token, JObject | JArray):
        return len(token.items)
    if isinstance(token, JProperty):
        if name == "Name":
            return token.name
        if name == "Value":
            return token.value
    if isinstance(token, JValue) and name == "Value":
        return token.value
    if name in ("HasValues",):
        return bool(getattr(token, "items", None))
    raise ExpressionError(f"a JSON {token_type(token).lower()} has no member '{name}'")


def convert(value: object, kind: str) -> object:
    """`(T)token` / `Value<T>()`: a JSON value as a .NET type."""
    from gateway.expressions.conversions import cast

    return cast(kind, value)


def call_json_method(
    token: JToken, name: str, args: list[object], type_args: tuple[str, ...]
) -> object:
    kind = type_args[0] if type_args else "object"
    if name == "ToString":
        compact = any("None" in to_text(a) for a in args)
        if isinstance(token, JValue):
            return to_text(token.value)
        return token.to_json(indent=not compact)
    if name == "Value":
        target = get_item(token, to_text(args[0])) if args else token
        return None if target is None else convert(target, kind)
    if name == "Values":
        items = token.items.values() if isinstance(token, JObject) else getattr(token, "items", [])
        return [convert(v, kind) for v in items]
    if name == "ToObject":
        return convert(token, kind)
    if name == "DeepClone":
        return to_token(token.to_python())
    if name == "SelectToken":
        return select_token(token, to_text(args[0]))
    if isinstance(token, JObject):
        return _object_method(token, name, args)
    if isinstance(token, JArray):
        if name == "Add":
            token.items.append(to_token(args[0]))
            return None
        return linq.call(token, name, args, type_args)
    raise ExpressionError(f"a JSON {token_type(token).lower()} has no method {name}()")


def _object_method(token: JObject, name: str, args: list[object]) -> object:
    if name == "Property":
        key = to_text(args[0])
        return JProperty(key, token.items[key]) if key in token.items else None
    if name == "Properties":
        return [JProperty(k, v) for k, v in token.items.items()]
    if name == "Remove":
        return token.items.pop(to_text(args[0]), None) is not None
    if name == "Add":
        if len(args) == 1 and isinstance(args[0], JProperty):
            token.items[args[0].name] = args[0].value
        else:
            key = to_text(args[0])
            if key in token.items:
                raise ExpressionError(f"the JObject already has a property '{key}'")
            token.items[key] = to_token(args[1])
        return None
    if name in ("ContainsKey",):
        return to_text(args[0]) in token.items
    if name == "TryGetValue":
        key = to_text(args[0])
        return OutResult(key in token.items, token.items.get(key))
    if name == "GetValue":
        return token.items.get(to_text(args[0]))
    return linq.call(iterate(token), name, args, ())


def get_item(token: object, key: object) -> object:
    """`token[key]` with Newtonsoft's rules: a missing property reads as null."""
    if isinstance(token, JObject):
        return token.items.get(to_text(key))
    if isinstance(token, JArray):
        index = key.value if isinstance(key, JValue) else key
        if not isinstance(index, int) or not 0 <= index < len(token.items):
            raise ExpressionError(f"index {to_text(key)} is outside the JSON array")
        return token.items[index]
    if isinstance(token, JProperty):
        return get_item(token.value, key)
    raise ExpressionError("cannot index into a JSON value")


def set_item(token: object, key: object, value: object) -> None:
    if isinstance(token, JObject):
        token.items[to_text(key)] = to_token(value)
        return
    if isinstance(token, JArray) and isinstance(key, int) and 0 <= key < len(token.items):
        token.items[key] = to_token(value)
        return
    raise ExpressionError("cannot assign into this JSON value")


def select_token(token: JToken, path: str) -> object:
    current: object = token
    for part in path.replace("[", ".[").split("."):
        if not part or part == "$":
            continue
        if current is None:
            return None
        if part.startswith("[") and part.endswith("]"):
            inner = part[1:-1].strip("'\"")
            current = get_item(current, int(inner) if inner.isdigit() else inner)
        else:
            current = get_item(current, part)
    return current
