""".NET and Newtonsoft.Json values as policy expressions see them.

Strings, numbers, booleans and null are Python's own. JSON values get small classes with
Newtonsoft's semantics (a missing key reads as null, `ToString()` indents by two spaces), and
.NET's formatting rules live in `to_text` (`true` prints as `True`, doubles print shortest).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any


class ExpressionError(Exception):
    """A runtime failure of an expression (APIM's ExpressionValueEvaluationFailure)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Long(int):
    """A C# `long`. Plain ints are C#'s `int`, so arithmetic on two of them wraps at 32 bits
    (C#'s unchecked default: `int.MaxValue + 1` is `int.MinValue`); with a `long`, or an int
    outside int's range (which only a long can hold), it wraps at 64 bits and gives a Long.
    Longs come from `long.Parse`, `Convert.ToInt64`, `(long)` casts, `L` literals, `long`
    declarations and `Ticks`; JSON integers read as int unless cast."""

    __slots__ = ()


INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def is_long(value: int) -> bool:
    return type(value) is not int or not INT_MIN <= value <= INT_MAX


def integral(result: int, a: int, b: int) -> int:
    """`result` of `a op b` as C# gives it: wrapped at 32 bits for two ints, else at 64.
    (operators.py returns a result that fits an int from two plain ints without calling
    this: two ints beyond int's range, which only a long holds, whose result fits one, give
    an int there rather than a Long; the value is the same.)"""
    if type(a) is int and type(b) is int and INT_MIN <= a <= INT_MAX and INT_MIN <= b <= INT_MAX:
        if INT_MIN <= result <= INT_MAX:  # the common case: nothing to wrap
            return result
        return ((result - INT_MIN) & 0xFFFFFFFF) + INT_MIN
    return Long(((result + 2**63) & (2**64 - 1)) - 2**63)


def to_long(value: object) -> object:
    """A value stored in a `long`: an int becomes a Long; anything else is left as it is."""
    return Long(value) if type(value) is int else value


class JToken:
    """Base of JSON values."""

    def to_python(self) -> Any:
        raise NotImplementedError

    def to_json(self, indent: bool) -> str:
        data = self.to_python()
        if indent:
            return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return to_text(value)


class JValue(JToken):
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def to_python(self) -> Any:
        return self.value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JValue):
            return self.value == other.value
        return self.value == other

    def __hash__(self) -> int:
        return hash(self.value)


class JObject(JToken):
    __slots__ = ("items",)

    def __init__(self, items: dict[str, JToken] | None = None) -> None:
        self.items: dict[str, JToken] = items if items is not None else {}

    def to_python(self) -> Any:
        return {k: v.to_python() for k, v in self.items.items()}

    def get(self, key: str) -> JToken | None:
        return self.items.get(key)

    def __iter__(self) -> Iterator[JProperty]:
        return iter([JProperty(k, v) for k, v in self.items.items()])


class JArray(JToken):
    __slots__ = ("items",)

    def __init__(self, items: list[JToken] | None = None) -> None:
        self.items: list[JToken] = items if items is not None else []

    def to_python(self) -> Any:
        return [v.to_python() for v in self.items]

    def __iter__(self) -> Iterator[JToken]:
        return iter(list(self.items))


class JProperty(JToken):
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: JToken) -> None:
        self.name = name
        self.value = value

    def to_python(self) -> Any:
        return {self.name: self.value.to_python()}

    def to_json(self, indent: bool) -> str:
        inner = self.value.to_json(indent)
        return f"{json.dumps(self.name)}: {inner}" if indent else f"{json.dumps(self.name)}:{inner}"


def to_token(value: object) -> JToken:
    """Wrap a Python or JSON value as a JToken (as Newtonsoft's implicit conversions do)."""
    if isinstance(value, JToken):
        return value
    if isinstance(value, dict):
        return JObject({str(k): to_token(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return JArray([to_token(v) for v in value])
    return JValue(value)


def parse_json(text: str) -> JToken:
    try:
        return to_token(json.loads(text))
    except (json.JSONDecodeError, TypeError) as error:
        raise ExpressionError(f"the text is not valid JSON: {error}") from None


def unwrap(value: object) -> object:
    """A JValue's plain value; anything else unchanged."""
    return value.value if isinstance(value, JValue) else value


def to_text(value: object) -> str:
    """`value.ToString()` as .NET prints it."""
    if type(value) is str:  # the common case, first
        return value
    value = unwrap(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).replace("e", "E")  # .NET writes 2.15E-05
    if isinstance(value, JToken):
        return value.to_json(indent=True)
    if isinstance(value, datetime):
        return value.strftime("%-m/%-d/%Y %-I:%M:%S %p")
    if isinstance(value, timedelta):
        return format_timespan(value)
    if isinstance(value, list | tuple):
        return "System.Collections.Generic.List`1[System.Object]"
    return str(value)


def format_timespan(span: timedelta) -> str:
    total = int(span.total_seconds())
    days, rest = divmod(abs(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    sign = "-" if total < 0 else ""
    prefix = f"{days}." if days else ""
    return f"{sign}{prefix}{hours:02}:{minutes:02}:{seconds:02}"


def truthy(value: object) -> bool:
    value = unwrap(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ExpressionError(f"expected a bool, got {type_name(value)}")


def type_name(value: object) -> str:
    if value is None:
        return "null"
    names = {
        bool: "bool",
        int: "int",
        Long: "long",
        float: "double",
        str: "string",
        Decimal: "decimal",
    }
    return names.get(type(value), type(value).__name__)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
