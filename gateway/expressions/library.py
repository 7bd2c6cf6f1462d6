"""The .NET surface policy expressions may use: members, methods and static types.

Every reachable member is listed in a table here; there is no fallback to Python attribute
access. Unknown members raise `ExpressionError` with the member's name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gateway.expressions import linq
from gateway.expressions.model import HeaderDictionary, MessageBody, ModelObject
from gateway.expressions.values import (
    ExpressionError,
    JArray,
    JObject,
    JToken,
    JValue,
    parse_json,
    to_text,
    to_token,
    type_name,
    unwrap,
    utc_now,
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


STATIC_TYPES = frozenset(
    """string String int Int32 long Int64 double Double decimal Decimal bool Boolean char Char
    float Single Math Convert DateTime DateTimeOffset TimeSpan Guid Encoding JObject JArray
    JToken JValue JProperty JsonConvert Formatting StringComparison StringSplitOptions Regex
    RegexOptions Uri UriKind WebUtility HttpUtility Random List Dictionary HashSet
    StringBuilder Array Enumerable IResponse Jwt BasicAuthCredentials object Object
    IEnumerable IList IDictionary Tuple KeyValuePair Exception SHA256 SHA1 MD5 HMACSHA256
    HMACSHA1 byte Byte CultureInfo NumberStyles DateTimeStyles JTokenType IPAddress Queue
    Stack BitConverter""".split()
)

_PREFIXES = (
    "System.",
    "Newtonsoft.Json.Linq.",
    "Newtonsoft.Json.",
    "Text.",
    "Collections.",
    "Generic.",
    "Linq.",
    "Security.",
    "Cryptography.",
    "RegularExpressions.",
    "Net.",
    "Globalization.",
)


def simple_type(name: str) -> str:
    """`System.Text.Encoding` -> `Encoding`; `Newtonsoft.Json.Linq.JObject` -> `JObject`."""
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                changed = True
    return name


class _Encoding:
    def __init__(self, codec: str) -> None:
        self.codec = codec


class _Hasher:
    def __init__(self, algorithm: str, key: bytes | None = None) -> None:
        self.algorithm = algorithm
        self.key = key

    def compute(self, data: object) -> bytes:
        raw = data if isinstance(data, bytes) else to_text(data).encode()
        if self.key is not None:
            return hmac.new(self.key, raw, self.algorithm).digest()
        return hashlib.new(self.algorithm, raw).digest()


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

STATIC_MEMBERS: dict[tuple[str, str], Callable[[], object]] = {
    ("string", "Empty"): lambda: "",
    ("DateTime", "UtcNow"): utc_now,
    ("DateTime", "Now"): utc_now,
    ("DateTime", "Today"): lambda: utc_now().replace(hour=0, minute=0, second=0, microsecond=0),
    ("DateTime", "MinValue"): lambda: datetime(1, 1, 1),
    ("DateTime", "MaxValue"): lambda: datetime(9999, 12, 31, 23, 59, 59),
    ("DateTimeOffset", "UtcNow"): utc_now,
    ("DateTimeOffset", "Now"): utc_now,
    ("TimeSpan", "Zero"): lambda: timedelta(0),
    ("Math", "PI"): lambda: math.pi,
    ("Math", "E"): lambda: math.e,
    ("Encoding", "UTF8"): lambda: _Encoding("utf-8"),
    ("Encoding", "ASCII"): lambda: _Encoding("ascii"),
    ("Encoding", "Unicode"): lambda: _Encoding("utf-16-le"),
    ("int", "MaxValue"): lambda: 2**31 - 1,
    ("int", "MinValue"): lambda: -(2**31),
    ("long", "MaxValue"): lambda: 2**63 - 1,
    ("Guid", "Empty"): lambda: uuid.UUID(int=0),
}
ENUM_TYPES = frozenset(
    {
        "StringComparison",
        "StringSplitOptions",
        "Formatting",
        "RegexOptions",
        "UriKind",
        "JTokenType",
        "NumberStyles",
        "DateTimeStyles",
        "CultureInfo",
    }
)
_ALIASES = {
    "String": "string",
    "Int32": "int",
    "Int64": "long",
    "Double": "double",
    "Boolean": "bool",
    "Decimal": "decimal",
    "Single": "float",
    "Object": "object",
    "Char": "char",
    "Byte": "byte",
}


def canonical_type(name: str) -> str:
    name = simple_type(name)
    return _ALIASES.get(name, name)


def static_member(type_name_: str, member: str) -> object:
    type_name_ = canonical_type(type_name_)
    if type_name_ in ENUM_TYPES:
        return f"{type_name_}.{member}"
    getter = STATIC_MEMBERS.get((type_name_, member))
    if getter is None:
        raise ExpressionError(f"{type_name_}.{member} is not available in policy expressions")
    return getter()


def is_known_static(type_name_: str, member: str) -> bool:
    type_name_ = canonical_type(type_name_)
    return (
        type_name_ in ENUM_TYPES
        or (type_name_, member) in STATIC_MEMBERS
        or (type_name_, member) in STATIC_METHODS
    )


def _parse_number(kind: Callable[[str], object]) -> Callable[..., object]:
    def parse(text: object, *_: object) -> object:
        try:
            return kind(to_text(text).strip())
        except (ValueError, ArithmeticError):
            raise ExpressionError(f"'{to_text(text)}' is not a valid number") from None

    return parse


def _try_parse(kind: Callable[[str], object]) -> Callable[..., OutResult]:
    def try_parse(text: object, *_: object) -> OutResult:
        try:
            return OutResult(True, kind(to_text(text).strip()))
        except (ValueError, ArithmeticError, TypeError):
            return OutResult(False, 0)

    return try_parse


def _parse_bool(text: object) -> bool:
    lowered = to_text(text).strip().lower()
    if lowered not in ("true", "false"):
        raise ExpressionError(f"'{to_text(text)}' is not a valid bool")
    return lowered == "true"


def _to_int(value: object, *rest: object) -> int:
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


def _to_double(value: object) -> float:
    value = unwrap(value)
    if value is None:
        return 0.0
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ExpressionError(f"'{to_text(value)}' is not a valid number") from None


def _format(template: object, *args: object) -> str:
    text = to_text(template)

    def hole(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(args):
            raise ExpressionError("string.Format has fewer arguments than its format needs")
        return to_text(args[index])

    return re.sub(r"\{(\d+)(?:[,:][^}]*)?\}", hole, text).replace("{{", "{").replace("}}", "}")


def _join(separator: object, *values: object) -> str:
    items: Iterable[object] = values
    if len(values) == 1 and not isinstance(values[0], str) and _iterable(values[0]):
        items = iterate(values[0])
    return to_text(separator).join(to_text(v) for v in items)


def _iterable(value: object) -> bool:
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


def _regex_options(options: tuple[object, ...]) -> int:
    flags = 0
    for option in options:
        if "IgnoreCase" in to_text(option):
            flags |= re.IGNORECASE
        if "Multiline" in to_text(option):
            flags |= re.MULTILINE
    return flags


def _net_regex(pattern: object) -> str:
    return re.sub(r"\(\?<(\w+)>", r"(?P<\1>", to_text(pattern))


class RegexMatch(ModelObject):
    EXTRA_MEMBERS = frozenset({"Success", "Value", "Groups", "Index", "Length"})

    def __init__(self, match: re.Match[str] | None) -> None:
        self.Success = match is not None
        self.Value = match.group() if match else ""
        self.Index = match.start() if match else 0
        self.Length = len(self.Value)
        groups: dict[str, object] = {}
        if match:
            for i, value in enumerate([match.group(), *match.groups()]):
                groups[str(i)] = _Group(value)
            for name, value in match.groupdict().items():
                groups[name] = _Group(value)
        self.Groups = groups


class RegexObject:
    """`new Regex(pattern, options)`: the instance form of the static Regex methods."""

    def __init__(self, pattern: str, options: tuple[object, ...]) -> None:
        self.pattern = _net_regex(pattern)
        self.flags = _regex_options(options)

    def call(self, name: str, args: list[object]) -> object:
        text = to_text(args[0]) if args else ""
        if name == "IsMatch":
            return re.search(self.pattern, text, self.flags) is not None
        if name == "Match":
            return RegexMatch(re.search(self.pattern, text, self.flags))
        if name == "Matches":
            return [RegexMatch(m) for m in re.finditer(self.pattern, text, self.flags)]
        if name == "Replace":
            replacement = to_text(args[1]).replace("$", "\\")
            return re.sub(self.pattern, replacement, text, flags=self.flags)
        if name == "Split":
            return re.split(self.pattern, text, flags=self.flags)
        raise ExpressionError(f"Regex has no method {name}()")


def make_date(args: list[object]) -> datetime:
    """`new DateTime(y, m, d[, h, min, s])` or `new DateTimeOffset(dateTime)`."""
    if len(args) == 1 and isinstance(args[0], datetime):
        return args[0]
    try:
        return datetime(*(_to_int(a) for a in args[:6]))
    except (TypeError, ValueError):
        raise ExpressionError("these arguments do not make a date") from None


class _Group(ModelObject):
    EXTRA_MEMBERS = frozenset({"Value", "Success"})

    def __init__(self, value: str | None) -> None:
        self.Value = value or ""
        self.Success = value is not None


STATIC_METHODS: dict[tuple[str, str], Callable[..., object]] = {
    ("string", "IsNullOrEmpty"): lambda s: unwrap(s) is None or to_text(s) == "",
    ("string", "IsNullOrWhiteSpace"): lambda s: unwrap(s) is None or to_text(s).strip() == "",
    ("string", "Join"): _join,
    ("string", "Format"): _format,
    ("string", "Concat"): lambda *v: "".join(to_text(x) for x in v),
    ("string", "Equals"): lambda a, b, *o: _string_equals(a, b, o),
    ("string", "Compare"): lambda a, b, *o: _compare(to_text(a), to_text(b), o),
    ("int", "Parse"): _parse_number(int),
    ("long", "Parse"): _parse_number(int),
    ("double", "Parse"): _parse_number(float),
    ("float", "Parse"): _parse_number(float),
    ("decimal", "Parse"): _parse_number(Decimal),
    ("bool", "Parse"): _parse_bool,
    ("int", "TryParse"): _try_parse(int),
    ("long", "TryParse"): _try_parse(int),
    ("double", "TryParse"): _try_parse(float),
    ("decimal", "TryParse"): _try_parse(Decimal),
    ("bool", "TryParse"): _try_parse(_parse_bool),
    ("Convert", "ToInt32"): _to_int,
    ("Convert", "ToInt64"): _to_int,
    ("Convert", "ToDouble"): _to_double,
    ("Convert", "ToDecimal"): lambda v: Decimal(str(unwrap(v))),
    ("Convert", "ToString"): lambda v, *_: to_text(v),
    ("Convert", "ToBoolean"): lambda v: v if isinstance(v, bool) else _parse_bool(v),
    ("Convert", "ToBase64String"): lambda b, *_: base64.b64encode(_bytes(b)).decode(),
    ("Convert", "FromBase64String"): lambda s: _from_base64(s),
    ("Math", "Max"): lambda a, b: max(unwrap(a), unwrap(b)),  # type: ignore[type-var]
    ("Math", "Min"): lambda a, b: min(unwrap(a), unwrap(b)),  # type: ignore[type-var]
    ("Math", "Abs"): lambda a: abs(unwrap(a)),  # type: ignore[arg-type]
    ("Math", "Round"): lambda a, digits=0, *_: _round(a, digits),
    ("Math", "Floor"): lambda a: float(math.floor(_to_double(a))),
    ("Math", "Ceiling"): lambda a: float(math.ceil(_to_double(a))),
    ("Math", "Pow"): lambda a, b: math.pow(_to_double(a), _to_double(b)),
    ("Math", "Sqrt"): lambda a: math.sqrt(_to_double(a)),
    ("Math", "Log"): lambda a, *b: math.log(_to_double(a), *map(_to_double, b)),
    ("DateTime", "Parse"): lambda s, *_: _parse_date(s),
    ("DateTime", "ParseExact"): lambda s, *_: _parse_date(s),
    ("DateTime", "TryParse"): lambda s, *_: _try_date(s),
    ("DateTimeOffset", "Parse"): lambda s, *_: _parse_date(s),
    ("DateTimeOffset", "FromUnixTimeSeconds"): lambda s: (
        datetime(1970, 1, 1) + timedelta(seconds=_to_int(s))
    ),
    ("TimeSpan", "FromSeconds"): lambda s: timedelta(seconds=_to_double(s)),
    ("TimeSpan", "FromMinutes"): lambda s: timedelta(minutes=_to_double(s)),
    ("TimeSpan", "FromHours"): lambda s: timedelta(hours=_to_double(s)),
    ("TimeSpan", "FromDays"): lambda s: timedelta(days=_to_double(s)),
    ("TimeSpan", "FromMilliseconds"): lambda s: timedelta(milliseconds=_to_double(s)),
    ("Guid", "NewGuid"): uuid.uuid4,
    ("Guid", "Parse"): lambda s: uuid.UUID(to_text(s)),
    ("JObject", "Parse"): lambda s: _expect(parse_json(to_text(s)), JObject),
    ("JArray", "Parse"): lambda s: _expect(parse_json(to_text(s)), JArray),
    ("JToken", "Parse"): lambda s: parse_json(to_text(s)),
    ("JObject", "FromObject"): to_token,
    ("JToken", "FromObject"): to_token,
    ("JArray", "FromObject"): to_token,
    ("JsonConvert", "SerializeObject"): lambda v, *o: to_token(v).to_json(
        indent=any("Indented" in to_text(x) for x in o)
    ),
    ("JsonConvert", "DeserializeObject"): lambda s, *_: parse_json(to_text(s)),
    ("Regex", "IsMatch"): lambda s, p, *o: (
        re.search(_net_regex(p), to_text(s), _regex_options(o)) is not None
    ),
    ("Regex", "Match"): lambda s, p, *o: RegexMatch(
        re.search(_net_regex(p), to_text(s), _regex_options(o))
    ),
    ("Regex", "Replace"): lambda s, p, r, *o: re.sub(
        _net_regex(p), to_text(r).replace("$", "\\"), to_text(s), flags=_regex_options(o)
    ),
    ("Regex", "Split"): lambda s, p, *o: re.split(
        _net_regex(p), to_text(s), flags=_regex_options(o)
    ),
    ("Regex", "Escape"): lambda s: re.escape(to_text(s)),
    ("Uri", "EscapeDataString"): lambda s: urllib.parse.quote(to_text(s), safe="-_.~"),
    ("Uri", "UnescapeDataString"): lambda s: urllib.parse.unquote(to_text(s)),
    ("WebUtility", "UrlEncode"): lambda s: urllib.parse.quote_plus(to_text(s)),
    ("WebUtility", "UrlDecode"): lambda s: urllib.parse.unquote_plus(to_text(s)),
    ("WebUtility", "HtmlEncode"): lambda s: _html_encode(to_text(s)),
    ("HttpUtility", "UrlEncode"): lambda s: urllib.parse.quote_plus(to_text(s)),
    ("Enumerable", "Range"): lambda start, count: list(
        range(_to_int(start), _to_int(start) + _to_int(count))
    ),
    ("Array", "Empty"): lambda: [],
    ("Array", "Copy"): lambda source, target, count: _copy(source, target, _to_int(count)),
    ("BitConverter", "GetBytes"): lambda v: list(
        int(unwrap(v)).to_bytes(8 if abs(int(unwrap(v))) >= 2**31 else 4, "little", signed=True)
    ),
    ("BitConverter", "ToString"): lambda b, *_: "-".join(f"{x:02X}" for x in _bytes(b)),
    ("BitConverter", "IsLittleEndian"): lambda: True,
    ("Array", "Exists"): lambda items, f: any(f(i) for i in iterate(items)),
    ("Array", "IndexOf"): lambda items, v: linq.METHODS["IndexOf"](iterate(items), v),
    ("Regex", "Matches"): lambda s, p, *o: [
        RegexMatch(m) for m in re.finditer(_net_regex(p), to_text(s), _regex_options(o))
    ],
    ("SHA256", "Create"): lambda: _Hasher("sha256"),
    ("SHA1", "Create"): lambda: _Hasher("sha1"),
    ("MD5", "Create"): lambda: _Hasher("md5"),
}


def _copy(source: object, target: object, count: int) -> None:
    if not isinstance(target, list) or not isinstance(source, list | bytes):
        raise ExpressionError("Array.Copy needs two arrays")
    target[:count] = list(source[:count])


def _expect(value: JToken, kind: type) -> JToken:
    if not isinstance(value, kind):
        raise ExpressionError(f"the JSON is not a {kind.__name__}")
    return value


def _html_encode(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _round(value: object, digits: object = 0) -> float:
    number = Decimal(str(unwrap(value))).quantize(Decimal(1).scaleb(-_to_int(digits)))
    return float(number)


def _parse_date(text: object) -> datetime:
    raw = to_text(text).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        for form in ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y", "%a, %d %b %Y %H:%M:%S GMT"):
            try:
                return datetime.strptime(to_text(text).strip(), form)
            except ValueError:
                continue
        raise ExpressionError(f"'{to_text(text)}' is not a valid date") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _try_date(text: object) -> OutResult:
    try:
        return OutResult(True, _parse_date(text))
    except ExpressionError:
        return OutResult(False, datetime(1, 1, 1))


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list):
        return bytes(int(unwrap(v)) for v in value)  # type: ignore[arg-type]
    return to_text(value).encode()


def _from_base64(text: object) -> bytes:
    try:
        return base64.b64decode(to_text(text), validate=True)
    except ValueError:
        raise ExpressionError("the text is not valid base64") from None


def _ignore_case(options: tuple[object, ...]) -> bool:
    return any("IgnoreCase" in to_text(o) for o in options)


def _string_equals(a: object, b: object, options: tuple[object, ...]) -> bool:
    a, b = unwrap(a), unwrap(b)
    if a is None or b is None:
        return a is b
    if _ignore_case(options):
        return to_text(a).lower() == to_text(b).lower()
    return to_text(a) == to_text(b)


def _compare(a: str, b: str, options: tuple[object, ...]) -> int:
    if any(isinstance(o, bool) and o for o in options) or _ignore_case(options):
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
    if _ignore_case(options):
        return text.lower().find(needle.lower(), start)
    return text.find(needle, start)


def _substring(text: str, start: object, length: object = None) -> str:
    begin = _to_int(start)
    if begin < 0 or begin > len(text):
        raise ExpressionError("Substring: startIndex is outside the string")
    if length is None:
        return text[begin:]
    count = _to_int(length)
    if count < 0 or begin + count > len(text):
        raise ExpressionError("Substring: length runs past the end of the string")
    return text[begin : begin + count]


STRING_METHODS: dict[str, Callable[..., object]] = {
    "Contains": lambda s, v, *o: (
        (to_text(v).lower() in s.lower()) if _ignore_case(o) else to_text(v) in s
    ),
    "StartsWith": lambda s, v, *o: (
        s.lower().startswith(to_text(v).lower()) if _ignore_case(o) else s.startswith(to_text(v))
    ),
    "EndsWith": lambda s, v, *o: (
        s.lower().endswith(to_text(v).lower()) if _ignore_case(o) else s.endswith(to_text(v))
    ),
    "IndexOf": _index_of,
    "LastIndexOf": lambda s, v, *_: s.rfind(to_text(v)),
    "Substring": _substring,
    "Replace": lambda s, a, b: s.replace(to_text(a), to_text(b)),
    "Split": _split,
    "ToLower": lambda s, *_: s.lower(),
    "ToLowerInvariant": lambda s: s.lower(),
    "ToUpper": lambda s, *_: s.upper(),
    "ToUpperInvariant": lambda s: s.upper(),
    "Trim": lambda s, *c: _trim(s, c, "strip"),
    "TrimStart": lambda s, *c: _trim(s, c, "lstrip"),
    "TrimEnd": lambda s, *c: _trim(s, c, "rstrip"),
    "PadLeft": lambda s, n, c=" ": s.rjust(_to_int(n), to_text(c)),
    "PadRight": lambda s, n, c=" ": s.ljust(_to_int(n), to_text(c)),
    "Equals": lambda s, v, *o: _string_equals(s, v, o),
    "CompareTo": lambda s, v: _compare(s, to_text(v), ()),
    "ToString": lambda s, *_: s,
    "ToCharArray": lambda s: list(s),
    "Insert": lambda s, i, v: s[: _to_int(i)] + to_text(v) + s[_to_int(i) :],
    "Remove": lambda s, i, n=None: (
        s[: _to_int(i)] + ("" if n is None else s[_to_int(i) + _to_int(n) :])
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
        return _invoke(method, target, args, f"string.{name}")
    if isinstance(target, MessageBody):
        return _body_method(target, name, args, type_args)
    if isinstance(target, HeaderDictionary | dict):
        return _dictionary_method(target, name, args)
    if isinstance(target, JToken):
        from gateway.expressions.json_methods import call_json_method

        return call_json_method(target, name, args, type_args)
    if isinstance(target, _Encoding):
        if name == "GetBytes":
            return to_text(args[0]).encode(target.codec)
        if name == "GetString":
            return _bytes(args[0]).decode(target.codec, errors="replace")
    if isinstance(target, RegexObject):
        return target.call(name, args)
    if isinstance(target, _Hasher) and name == "ComputeHash":
        return target.compute(args[0])
    if isinstance(target, datetime | timedelta):
        from gateway.expressions.time_methods import call_time_method

        return call_time_method(target, name, args)
    if isinstance(target, random.Random):
        return _random_method(target, name, args)
    if isinstance(target, list | tuple | set):
        return linq.call(target, name, args, type_args)
    if (
        isinstance(target, ModelObject)
        and name in target.expression_members()
        and callable(getattr(target, name))
    ):
        return getattr(target, name)(*args)
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


def _invoke(
    method: Callable[..., object], target: object, args: list[object], label: str
) -> object:
    try:
        return method(target, *args)
    except TypeError:
        raise ExpressionError(f"{label}() was called with the wrong number of arguments") from None


def _random_method(rng: random.Random, name: str, args: list[object]) -> object:
    if name == "Next":
        if not args:
            return rng.randrange(0, 2**31 - 1)
        if len(args) == 1:
            return rng.randrange(0, max(_to_int(args[0]), 1))
        low, high = _to_int(args[0]), _to_int(args[1])
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
            return _expect(token, JObject)
        if kind == "JArray":
            return _expect(token, JArray)
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


def member(target: object, name: str) -> object:
    """`target.name` for a value that is not a static type."""
    if target is None:
        raise ExpressionError(f"cannot read '{name}' of null (a null reference)")
    if isinstance(target, ModelObject):
        if name in target.expression_members():
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
