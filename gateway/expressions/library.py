"""The .NET surface policy expressions may use: members, methods and static types.

Every reachable member is listed in a table here; there is no fallback to Python attribute
access. Unknown members raise `ExpressionError` with the member's name.
"""

from __future__ import annotations

import random
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.expressions import linq
from gateway.expressions.coerce import OutResult, expect_token, iterate, to_bytes, to_int
from gateway.expressions.guids import guid_method
from gateway.expressions.model import HeaderDictionary, MessageBody, ModelObject
from gateway.expressions.regex import RegexObject
from gateway.expressions.statics import Encoding, Hasher, canonical_type
from gateway.expressions.strings import STRING_METHODS, string_member
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JToken,
    JValue,
    parse_json,
    to_text,
    type_name,
    unwrap,
)

_TOKEN_METHODS = frozenset({"Value", "ToString", "ToObject", "DeepClone", "SelectToken"})


def call_method(
    target: object, name: str, args: list[object], type_args: tuple[str, ...]
) -> object:
    """`target.name<type_args>(args)` for a value that is not a static type."""
    if isinstance(target, JValue) and name not in _TOKEN_METHODS:
        target = target.value
    if target is None:
        raise ExpressionError(f"cannot call {name}() on null (a null reference)")
    if isinstance(target, str):
        method = STRING_METHODS.get(name)
        if method is None:
            return linq.call(list(target), name, args, type_args)
        return invoke_method(method, target, args, f"string.{name}")
    if isinstance(target, MessageBody):
        return _body_method(target, name, args, type_args)
    if isinstance(target, HeaderDictionary | dict):
        return _dictionary_method(target, name, args)
    if isinstance(target, JToken):
        from gateway.expressions.json_methods import call_json_method

        return call_json_method(target, name, args, type_args)
    if isinstance(target, Encoding):
        if name == "GetBytes":
            return to_text(args[0]).encode(target.codec)
        if name == "GetString":
            return to_bytes(args[0]).decode(target.codec, errors="replace")
    if isinstance(target, RegexObject):
        return target.call(name, args)
    if isinstance(target, Hasher) and name == "ComputeHash":
        return target.compute(args[0])
    if isinstance(target, datetime | timedelta):
        from gateway.expressions.time_methods import call_time_method

        return call_time_method(target, name, args)
    if isinstance(target, random.Random):
        return _random_method(target, name, args)
    if isinstance(target, list | tuple | set):
        return linq.call(target, name, args, type_args)
    if isinstance(target, bytes):  # a byte[]: LINQ sees its bytes as ints, as .NET does
        return linq.call(list(target), name, args, type_args)
    if (
        isinstance(target, ModelObject)
        and name in target.expression_members()
        and callable(getattr(target, name))
    ):
        return getattr(target, name)(*args)
    if isinstance(target, uuid.UUID) and name in ("ToByteArray", "ToString"):
        return guid_method(target, name, args)
    if name == "ToString":
        return to_text(target) if not args else _format_value(target, args[0])
    if name == "Equals":
        return unwrap(target) == unwrap(args[0])
    if name == "GetHashCode":
        return hash(str(target)) & 0x7FFFFFFF
    if name == "CompareTo":
        other = unwrap(args[0])
        return (target > other) - (target < other)  # type: ignore[operator]
    if name == "HasValue":
        return True
    raise ExpressionError(f"{type_name(target)} has no method {name}()")


def _format_value(value: object, spec: object) -> str:
    from gateway.expressions.time_methods import format_number

    return format_number(value, to_text(spec))


def invoke_method(
    method: Callable[..., object], target: object, args: list[object], label: str
) -> object:
    """`target.method(args)` for one of the string methods; `label` names it in errors."""
    try:
        return method(target, *args)
    except TypeError:
        raise ExpressionError(f"{label}() was called with the wrong number of arguments") from None


def _random_method(rng: random.Random, name: str, args: list[object]) -> object:
    if name == "Next":
        if not args:
            return rng.randrange(0, 2**31 - 1)
        if len(args) == 1:
            return rng.randrange(0, max(to_int(args[0]), 1))
        low, high = to_int(args[0]), to_int(args[1])
        return low if high <= low else rng.randrange(low, high)
    if name == "NextDouble":
        return rng.random()
    raise ExpressionError(f"Random has no method {name}()")


def _body_method(
    body: MessageBody, name: str, args: list[object], type_args: tuple[str, ...]
) -> object:
    preserve = bool(args[0]) if args else False
    if name == "As":
        kind = canonical_type(type_args[0]) if type_args else "string"
        raw = body.read(preserve)
        if kind == "string":
            return raw.decode("utf-8", errors="replace")
        if kind in ("byte[]", "byte"):
            return raw
        token = parse_json(raw.decode("utf-8", errors="replace"))
        if kind == "JObject":
            return expect_token(token, JObject)
        if kind == "JArray":
            return expect_token(token, JArray)
        return token
    if name == "AsFormUrlEncodedContent":
        parsed = urllib.parse.parse_qs(body.read(preserve).decode(), keep_blank_values=True)
        return {k: list(v) for k, v in parsed.items()}
    raise ExpressionError(f"the body has no method {name}()")


def _dictionary_method(target: HeaderDictionary | dict, name: str, args: list[object]) -> object:
    def lookup(key: object) -> tuple[bool, object]:
        if isinstance(target, HeaderDictionary):
            joined = target.joined(to_text(key))
            return joined is not None, joined
        present = to_text(key) in target
        return present, target.get(to_text(key))

    if name == "GetValueOrDefault":
        found, value = lookup(args[0])
        if found:
            return value
        return args[1] if len(args) > 1 else None
    if name == "ContainsKey":
        return lookup(args[0])[0]
    if name == "TryGetValue":
        found, value = lookup(args[0])
        return OutResult(found, value)
    if isinstance(target, dict):
        if name in ("Add", "TryAdd"):
            if to_text(args[0]) in target and name == "Add":
                raise ExpressionError(f"the key '{to_text(args[0])}' is already present")
            target.setdefault(to_text(args[0]), args[1])
            return None
        if name == "Remove":
            return target.pop(to_text(args[0]), None) is not None
        if name == "ContainsValue":
            return args[0] in target.values()
    return linq.call(iterate(target), name, args, ())


# Each model class's readable members, looked up on every member access.
_MEMBERS: dict[type, frozenset[str]] = {}


def member(target: object, name: str) -> object:
    """`target.name` for a value that is not a static type."""
    if target is None:
        raise ExpressionError(f"cannot read '{name}' of null (a null reference)")
    if isinstance(target, ModelObject):
        members = _MEMBERS.get(type(target))
        if members is None:
            members = _MEMBERS[type(target)] = target.expression_members()
        if name in members:
            return getattr(target, name)
        raise ExpressionError(
            f"{type(target).__name__.removesuffix('Model')} has no member '{name}'"
        )
    if isinstance(target, str):
        return string_member(target, name)
    if isinstance(target, list | tuple | set) and name in ("Count", "Length"):
        return len(target)
    if isinstance(target, dict):
        if name == "Count":
            return len(target)
        if name == "Keys":
            return list(target)
        if name == "Values":
            return list(target.values())
    if isinstance(target, bytes) and name == "Length":
        return len(target)
    if isinstance(target, JToken):
        from gateway.expressions.json_methods import json_member

        return json_member(target, name)
    if isinstance(target, datetime | timedelta):
        from gateway.expressions.time_methods import time_member

        return time_member(target, name)
    if isinstance(target, uuid.UUID) and name == "Length":
        return 36
    if name == "Value":  # Nullable<T>.Value
        return target
    if name == "HasValue":
        return True
    raise ExpressionError(f"{type_name(target)} has no member '{name}'")
