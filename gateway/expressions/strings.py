"""String members and methods, and the JWT and Basic helpers APIM adds to strings."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gateway.expressions.allowance import allocate, charged
from gateway.expressions.coerce import OutResult, to_int
from gateway.expressions.model import HeaderDictionary, ModelObject
from gateway.expressions.values import (
    ExpressionError,
    parse_json,
    to_text,
    unwrap,
)


class Jwt(ModelObject):
    EXTRA_MEMBERS = frozenset(
        {
            "Id",
            "Algorithm",
            "Issuer",
            "Subject",
            "Type",
            "Audiences",
            "Claims",
            "ExpirationTime",
            "NotBefore",
            "IssuedAt",
        }
    )

    def __init__(self, header: dict[str, Any], claims: dict[str, Any]) -> None:
        def listed(value: object) -> list[str]:
            return [str(v) for v in value] if isinstance(value, list) else [str(value)]

        def when(key: str) -> datetime | None:
            return (
                datetime.fromtimestamp(claims[key], UTC).replace(tzinfo=None)
                if key in claims
                else None
            )

        self.Id = claims.get("jti")
        self.Algorithm = header.get("alg")
        self.Type = header.get("typ")
        self.Issuer = claims.get("iss")
        self.Subject = claims.get("sub")
        self.Audiences = listed(claims["aud"]) if "aud" in claims else []
        self.Claims = HeaderDictionary({k: listed(v) for k, v in claims.items()})
        self.ExpirationTime = when("exp")
        self.NotBefore = when("nbf")
        self.IssuedAt = when("iat")


def decode_jwt(token: str) -> Jwt | None:
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:]
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (
            parse_json(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode()).to_python()
            for p in parts[:2]
        )
    except (ValueError, ExpressionError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return Jwt(header, claims)


class Credentials(ModelObject):
    EXTRA_MEMBERS = frozenset({"UserId", "Password"})

    def __init__(self, user: str, password: str) -> None:
        self.UserId = user
        self.Password = password


def decode_basic(value: str) -> Credentials | None:
    value = value.strip()
    if value.lower().startswith("basic "):
        value = value[6:]
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return Credentials(user, password)


# -- static members -----------------------------------------------------------------------------


def ignore_case(options: tuple[object, ...]) -> bool:
    return any("IgnoreCase" in to_text(o) for o in options)


def string_equals(a: object, b: object, options: tuple[object, ...]) -> bool:
    a, b = unwrap(a), unwrap(b)
    if a is None or b is None:
        return a is b
    if ignore_case(options):
        return to_text(a).lower() == to_text(b).lower()
    return to_text(a) == to_text(b)


def compare_strings(a: str, b: str, options: tuple[object, ...]) -> int:
    if any(isinstance(o, bool) and o for o in options) or ignore_case(options):
        a, b = a.lower(), b.lower()
    return (a > b) - (a < b)


# -- instance methods ---------------------------------------------------------------------------


def _split(text: str, *args: object) -> list[str]:
    separators: list[str] = []
    remove_empty = False
    limit = None
    for arg in args:
        arg = unwrap(arg)
        if isinstance(arg, str) and arg.startswith("StringSplitOptions."):
            remove_empty = "RemoveEmptyEntries" in arg
        elif isinstance(arg, str):
            separators.append(arg)
        elif isinstance(arg, list | tuple):
            separators.extend(to_text(s) for s in arg)
        elif isinstance(arg, int):
            limit = arg
    if not separators:
        parts = text.split()
    else:
        pattern = "|".join(re.escape(s) for s in separators)
        parts = re.split(pattern, text, maxsplit=(limit - 1) if limit else 0)
    return [p for p in parts if p] if remove_empty else parts


def _trim(text: str, chars: tuple[object, ...], how: str) -> str:
    strip = "".join(to_text(c) for c in chars) or None
    return getattr(text, how)(strip)


def _index_of(text: str, value: object, *options: object) -> int:
    needle = to_text(value)
    start = next((o for o in options if isinstance(o, int)), 0)
    if ignore_case(options):
        return text.lower().find(needle.lower(), start)
    return text.find(needle, start)


def _width(width: object) -> int:
    """PadLeft's and PadRight's total width, charged before the padding is made."""
    total = to_int(width)
    if total < 0:
        raise ExpressionError("PadLeft/PadRight: totalWidth is less than zero")
    allocate(total)
    return total


def _replace(text: str, old: str, new: str) -> str:
    """`text.Replace(old, new)`, its growth charged before it is made (one short needle and
    a long replacement could otherwise multiply a body's size)."""
    if not old:
        raise ExpressionError("Replace: oldValue cannot be an empty string")
    if len(new) > len(old):
        allocate(len(text) + text.count(old) * (len(new) - len(old)))
    return text.replace(old, new)


def _substring(text: str, start: object, length: object = None) -> str:
    begin = to_int(start)
    if begin < 0 or begin > len(text):
        raise ExpressionError("Substring: startIndex is outside the string")
    if length is None:
        return text[begin:]
    count = to_int(length)
    if count < 0 or begin + count > len(text):
        raise ExpressionError("Substring: length runs past the end of the string")
    return text[begin : begin + count]


STRING_METHODS: dict[str, Callable[..., object]] = {
    "Contains": lambda s, v, *o: (
        (to_text(v).lower() in s.lower()) if ignore_case(o) else to_text(v) in s
    ),
    "StartsWith": lambda s, v, *o: (
        s.lower().startswith(to_text(v).lower()) if ignore_case(o) else s.startswith(to_text(v))
    ),
    "EndsWith": lambda s, v, *o: (
        s.lower().endswith(to_text(v).lower()) if ignore_case(o) else s.endswith(to_text(v))
    ),
    "IndexOf": _index_of,
    "LastIndexOf": lambda s, v, *_: s.rfind(to_text(v)),
    "Substring": _substring,
    "Replace": lambda s, a, b: _replace(s, to_text(a), to_text(b)),
    "Split": _split,
    "ToLower": lambda s, *_: s.lower(),
    "ToLowerInvariant": lambda s: s.lower(),
    "ToUpper": lambda s, *_: s.upper(),
    "ToUpperInvariant": lambda s: s.upper(),
    "Trim": lambda s, *c: _trim(s, c, "strip"),
    "TrimStart": lambda s, *c: _trim(s, c, "lstrip"),
    "TrimEnd": lambda s, *c: _trim(s, c, "rstrip"),
    "PadLeft": lambda s, n, c=" ": s.rjust(_width(n), to_text(c)),
    "PadRight": lambda s, n, c=" ": s.ljust(_width(n), to_text(c)),
    "Equals": lambda s, v, *o: string_equals(s, v, o),
    "CompareTo": lambda s, v: compare_strings(s, to_text(v), ()),
    "ToString": lambda s, *_: s,
    "ToCharArray": lambda s: list(s),
    "Insert": lambda s, i, v: charged(s[: to_int(i)] + to_text(v) + s[to_int(i) :]),
    "Remove": lambda s, i, n=None: (
        s[: to_int(i)] + ("" if n is None else s[to_int(i) + to_int(n) :])
    ),
    "AsJwt": lambda s: decode_jwt(s),
    "TryParseJwt": lambda s: OutResult((jwt := decode_jwt(s)) is not None, jwt),
    "AsBasic": lambda s: decode_basic(s),
    "TryParseBasic": lambda s: OutResult((c := decode_basic(s)) is not None, c),
    "GetHashCode": lambda s: hash(s) & 0x7FFFFFFF,
}


def string_member(text: str, name: str) -> object:
    if name == "Length":
        return len(text)
    raise ExpressionError(f"string has no member '{name}'")
