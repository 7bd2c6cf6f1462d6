"""Casts (`(int)x`), `as` and `is`, with .NET and Newtonsoft conversion rules."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from gateway.expressions.statics import canonical_type
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JProperty,
    JToken,
    JValue,
    to_long,
    to_text,
    type_name,
)

_INTEGERS = frozenset({"int", "long", "short", "byte", "uint", "ulong"})
_REALS = frozenset({"double", "float"})


def _number(value: object, kind: str) -> object:
    raw = value.value if isinstance(value, JValue) else value
    if raw is None:
        raise ExpressionError(f"null cannot be cast to {kind}")
    if isinstance(raw, bool):
        raise ExpressionError(f"a bool cannot be cast to {kind}")
    try:
        if kind in _INTEGERS:
            if isinstance(raw, str):
                if not isinstance(value, JValue):
                    return _refuse(raw, kind)
                raw = raw.strip()
            return narrowed(int(raw), kind)  # type: ignore[call-overload]
        if kind == "decimal":
            return Decimal(str(raw))
        if isinstance(raw, str) and not isinstance(value, JValue):
            return _refuse(raw, kind)
        return float(raw)  # type: ignore[arg-type]
    except (ValueError, TypeError, InvalidOperation):
        raise ExpressionError(f"'{to_text(raw)}' cannot be cast to {kind}") from None


# Each integer type's width and signedness: an explicit cast keeps the low bits (C#'s
# unchecked default), so `(byte)(ticks >> 8)` is one byte and `(int)someLong` wraps.
_WIDTHS = {"byte": (8, False), "short": (16, True), "int": (32, True), "uint": (32, False)}


def narrowed(number: int, kind: str) -> int:
    if kind in ("long", "ulong"):
        return to_long(number if kind == "long" else number & (2**64 - 1))
    bits, signed = _WIDTHS[kind]
    number &= (1 << bits) - 1
    if signed and number >= 1 << (bits - 1):
        number -= 1 << bits
    return number


def declared(type_name_: str | None) -> Callable[[object], object] | None:
    """What storing a value in a local of this declared type does to it: a `long` local
    holds a Long (see values.Long); None for every other type (the value is kept)."""
    if type_name_ is not None and canonical_type(type_name_) == "long":
        return to_long
    return None


def _refuse(value: object, kind: str) -> object:
    raise ExpressionError(f"a {type_name(value)} cannot be cast to {kind}; use {kind}.Parse(...)")


def cast(kind: str, value: object) -> object:
    """`(kind)value`. Raises ExpressionError where .NET throws InvalidCastException."""
    kind = canonical_type(kind).removesuffix("?")
    if kind in ("object", "var", "IResponse", "dynamic") or kind not in _KNOWN:
        return value
    if kind == "string":
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, JValue):
            return None if value.value is None else to_text(value.value)
        if isinstance(value, JToken):
            raise ExpressionError("a JSON object or array cannot be cast to string; use ToString()")
        raise ExpressionError(f"a {type_name(value)} cannot be cast to string; use ToString()")
    if kind in _INTEGERS or kind in _REALS or kind == "decimal":
        return _number(value, kind)
    if kind == "bool":
        raw = value.value if isinstance(value, JValue) else value
        if isinstance(raw, bool):
            return raw
        if isinstance(value, JValue) and isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ExpressionError(f"a {type_name(raw)} cannot be cast to bool")
    expected = _JSON_TYPES.get(kind)
    if expected is not None:
        if value is None or isinstance(value, expected):
            return value
        if kind == "JToken" and not isinstance(value, JToken):
            from gateway.expressions.values import to_token

            return to_token(value)
        raise ExpressionError(f"a {type_name(value)} cannot be cast to {kind}")
    return value


def try_cast(kind: str, value: object) -> object:
    """`value as kind`: the value when it is one, else null."""
    return value if is_instance(kind, value) else None


def is_instance(kind: str, value: object) -> bool:
    kind = canonical_type(kind).removesuffix("?")
    if value is None:
        return False
    checks: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "bool": bool,
        "int": int,
        "long": int,
        "double": float,
        "decimal": Decimal,
        **_JSON_TYPES,
    }
    expected = checks.get(kind)
    if expected is None:
        return True
    if kind in ("int", "long") and isinstance(value, bool):
        return False
    return isinstance(value, expected)


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "JObject": JObject,
    "JArray": JArray,
    "JToken": JToken,
    "JValue": JValue,
    "JProperty": JProperty,
}
_KNOWN = frozenset({"string", "bool", "decimal", *_INTEGERS, *_REALS, *_JSON_TYPES})
