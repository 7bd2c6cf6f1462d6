"""Conversions and shapes every part of the .NET surface shares: ints, bytes, iteration."""

from __future__ import annotations

from decimal import Decimal

from gateway.expressions.model import HeaderDictionary, ModelObject
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JToken,
    to_text,
    type_name,
    unwrap,
)


class OutResult:
    """A method's return value plus the values of its `out` arguments."""

    def __init__(self, value: object, *outs: object) -> None:
        self.value = value
        self.outs = outs


class Pair(ModelObject):
    """KeyValuePair / JProperty as met when iterating dictionaries and JObjects."""

    EXTRA_MEMBERS = frozenset({"Key", "Value", "Name"})

    def __init__(self, key: str, value: object) -> None:
        self.Key = key
        self.Name = key
        self.Value = value


def to_int(value: object, *rest: object) -> int:
    value = unwrap(value)
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float | Decimal):
        return round(value)
    try:
        return int(to_text(value).strip(), int(rest[0]) if rest else 10)  # type: ignore[call-overload]
    except ValueError:
        raise ExpressionError(f"'{to_text(value)}' is not a valid integer") from None


def to_double(value: object) -> float:
    value = unwrap(value)
    if value is None:
        return 0.0
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ExpressionError(f"'{to_text(value)}' is not a valid number") from None


def to_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list):
        return bytes(int(unwrap(v)) for v in value)  # type: ignore[arg-type]
    return to_text(value).encode()


def is_iterable(value: object) -> bool:
    return isinstance(value, list | tuple | set | dict | JArray | JObject | HeaderDictionary)


def iterate(value: object) -> list[object]:
    """What `foreach` sees when it walks `value`."""
    value = unwrap(value)
    if isinstance(value, list | tuple | set):
        return list(value)
    if isinstance(value, str):
        return list(value)
    if isinstance(value, JArray):
        return list(value.items)
    if isinstance(value, JObject):
        return [Pair(k, v) for k, v in value.items.items()]
    if isinstance(value, dict):
        return [Pair(k, v) for k, v in value.items()]
    if isinstance(value, HeaderDictionary):
        return [Pair(k, value.get(k)) for k in value.Keys]
    if value is None:
        raise ExpressionError("cannot iterate over null")
    raise ExpressionError(f"cannot iterate over a {type_name(value)}")


def expect_token(value: JToken, kind: type) -> JToken:
    if not isinstance(value, kind):
        raise ExpressionError(f"the JSON is not a {kind.__name__}")
    return value
