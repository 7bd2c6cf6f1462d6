"""Static types and their members: `DateTime.UtcNow`, `int.Parse`, `JObject.Parse`, ..."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

from gateway.expressions import linq
from gateway.expressions import regex as R
from gateway.expressions.allowance import allocate, allocate_items, charged, joined, texts
from gateway.expressions.coerce import (
    OutResult,
    expect_token,
    is_iterable,
    iterate,
    to_bytes,
    to_double,
    to_int,
)
from gateway.expressions.guids import parse_guid
from gateway.expressions.regex import RegexMatch, regex_options
from gateway.expressions.strings import compare_strings, string_equals
from gateway.expressions.values import (
    INT_MAX,
    INT_MIN,
    ExpressionError,
    JArray,
    JObject,
    Long,
    parse_json,
    to_text,
    to_token,
    unwrap,
    utc_now,
)

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


@cache  # pure, and called while evaluating: keep string work off the request path
@cache  # a handful of distinct names, asked on every evaluation of a member chain
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


class Encoding:
    def __init__(self, codec: str) -> None:
        self.codec = codec


class Hasher:
    def __init__(self, algorithm: str, key: bytes | None = None) -> None:
        self.algorithm = algorithm
        self.key = key

    def compute(self, data: object) -> bytes:
        raw = data if isinstance(data, bytes) else to_text(data).encode()
        if self.key is not None:
            return hmac.new(self.key, raw, self.algorithm).digest()
        return hashlib.new(self.algorithm, raw).digest()


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
    ("Encoding", "UTF8"): lambda: Encoding("utf-8"),
    ("Encoding", "ASCII"): lambda: Encoding("ascii"),
    ("Encoding", "Unicode"): lambda: Encoding("utf-16-le"),
    ("int", "MaxValue"): lambda: INT_MAX,
    ("int", "MinValue"): lambda: INT_MIN,
    ("long", "MaxValue"): lambda: Long(2**63 - 1),
    ("long", "MinValue"): lambda: Long(-(2**63)),
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


@cache
@cache
def canonical_type(name: str) -> str:
    name = simple_type(name)
    return _ALIASES.get(name, name)


def static_member(type_name_: str, member: str) -> object:
    return static_getter(type_name_, member)()


def static_getter(type_name_: str, member: str) -> Callable[[], object]:
    """What reads `Type.member`, looked up once (an enum's member is its dotted name)."""
    type_name_ = canonical_type(type_name_)
    if type_name_ in ENUM_TYPES:
        value = f"{type_name_}.{member}"
        return lambda: value
    getter = STATIC_MEMBERS.get((type_name_, member))
    if getter is None:

        def missing() -> object:
            raise ExpressionError(f"{type_name_}.{member} is not available in policy expressions")

        return missing
    return getter


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


_HOLE = re.compile(r"\{(\d+)(?:[,:][^}]*)?\}")


def _format(template: object, *args: object) -> str:
    text = to_text(template)

    def hole(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(args):
            raise ExpressionError("string.Format has fewer arguments than its format needs")
        filled = to_text(args[index])
        allocate(len(filled))  # a format may repeat one long argument many times
        return filled

    return _HOLE.sub(hole, text).replace("{{", "{").replace("}}", "}")


def _join(separator: object, *values: object) -> str:
    items: Iterable[object] = values
    if len(values) == 1 and not isinstance(values[0], str) and is_iterable(values[0]):
        items = iterate(values[0])
    return joined(texts(items), to_text(separator))


def make_date(args: list[object]) -> datetime:
    """`new DateTime(y, m, d[, h, min, s])` or `new DateTimeOffset(dateTime)`."""
    if len(args) == 1 and isinstance(args[0], datetime):
        return args[0]
    try:
        return datetime(*(to_int(a) for a in args[:6]))
    except (TypeError, ValueError):
        raise ExpressionError("these arguments do not make a date") from None


def _range(start: int, count: int) -> list[int]:
    if count < 0:
        raise ExpressionError("Enumerable.Range: count is less than zero")
    allocate_items(count)
    return list(range(start, start + count))


def _copy(source: object, target: object, *where: object) -> None:
    """`Array.Copy(source, target, count)` or `(source, sourceIndex, target, targetIndex,
    count)`."""
    if len(where) == 3:
        start, target, at, count = to_int(target), where[0], to_int(where[1]), to_int(where[2])
    elif len(where) == 1:
        start, at, count = 0, 0, to_int(where[0])
    else:
        raise ExpressionError("Array.Copy takes 3 or 5 arguments")
    if not isinstance(target, list) or not isinstance(source, list | bytes):
        raise ExpressionError("Array.Copy needs two arrays")
    if min(start, at, count) < 0 or start + count > len(source) or at + count > len(target):
        raise ExpressionError("Array.Copy: the range runs outside an array")
    target[at : at + count] = list(source[start : start + count])


STATIC_METHODS: dict[tuple[str, str], Callable[..., object]] = {
    ("string", "IsNullOrEmpty"): lambda s: unwrap(s) is None or to_text(s) == "",
    ("string", "IsNullOrWhiteSpace"): lambda s: unwrap(s) is None or to_text(s).strip() == "",
    ("string", "Join"): _join,
    ("string", "Format"): _format,
    ("string", "Concat"): lambda *v: joined(texts(v)),
    ("string", "Equals"): lambda a, b, *o: string_equals(a, b, o),
    ("string", "Compare"): lambda a, b, *o: compare_strings(to_text(a), to_text(b), o),
    ("int", "Parse"): _parse_number(int),
    ("long", "Parse"): _parse_number(Long),
    ("double", "Parse"): _parse_number(float),
    ("float", "Parse"): _parse_number(float),
    ("decimal", "Parse"): _parse_number(Decimal),
    ("bool", "Parse"): _parse_bool,
    ("int", "TryParse"): _try_parse(int),
    ("long", "TryParse"): _try_parse(Long),
    ("double", "TryParse"): _try_parse(float),
    ("decimal", "TryParse"): _try_parse(Decimal),
    ("bool", "TryParse"): _try_parse(_parse_bool),
    ("Convert", "ToInt32"): to_int,
    ("Convert", "ToInt64"): lambda v, *rest: Long(to_int(v, *rest)),
    ("Convert", "ToDouble"): to_double,
    ("Convert", "ToDecimal"): lambda v: Decimal(str(unwrap(v))),
    ("Convert", "ToString"): lambda v, *_: to_text(v),
    ("Convert", "ToBoolean"): lambda v: v if isinstance(v, bool) else _parse_bool(v),
    ("Convert", "ToBase64String"): lambda b, *_: charged(base64.b64encode(to_bytes(b)).decode()),
    ("Convert", "FromBase64String"): lambda s: _from_base64(s),
    ("Math", "Max"): lambda a, b: max(unwrap(a), unwrap(b)),  # type: ignore[type-var]
    ("Math", "Min"): lambda a, b: min(unwrap(a), unwrap(b)),  # type: ignore[type-var]
    ("Math", "Abs"): lambda a: abs(unwrap(a)),  # type: ignore[arg-type]
    ("Math", "Round"): lambda a, digits=0, *_: _round(a, digits),
    ("Math", "Floor"): lambda a: float(math.floor(to_double(a))),
    ("Math", "Ceiling"): lambda a: float(math.ceil(to_double(a))),
    ("Math", "Pow"): lambda a, b: math.pow(to_double(a), to_double(b)),
    ("Math", "Sqrt"): lambda a: math.sqrt(to_double(a)),
    ("Math", "Log"): lambda a, *b: math.log(to_double(a), *map(to_double, b)),
    ("DateTime", "Parse"): lambda s, *_: parse_date(s),
    ("DateTime", "ParseExact"): lambda s, *_: parse_date(s),
    ("DateTime", "TryParse"): lambda s, *_: _try_date(s),
    ("DateTimeOffset", "Parse"): lambda s, *_: parse_date(s),
    ("DateTimeOffset", "FromUnixTimeSeconds"): lambda s: (
        datetime(1970, 1, 1) + timedelta(seconds=to_int(s))
    ),
    ("TimeSpan", "FromSeconds"): lambda s: timedelta(seconds=to_double(s)),
    ("TimeSpan", "FromMinutes"): lambda s: timedelta(minutes=to_double(s)),
    ("TimeSpan", "FromHours"): lambda s: timedelta(hours=to_double(s)),
    ("TimeSpan", "FromDays"): lambda s: timedelta(days=to_double(s)),
    ("TimeSpan", "FromMilliseconds"): lambda s: timedelta(milliseconds=to_double(s)),
    ("Guid", "NewGuid"): uuid.uuid4,
    ("Guid", "Parse"): parse_guid,
    ("JObject", "Parse"): lambda s: expect_token(parse_json(to_text(s)), JObject),
    ("JArray", "Parse"): lambda s: expect_token(parse_json(to_text(s)), JArray),
    ("JToken", "Parse"): lambda s: parse_json(to_text(s)),
    ("JObject", "FromObject"): to_token,
    ("JToken", "FromObject"): to_token,
    ("JArray", "FromObject"): to_token,
    ("JsonConvert", "SerializeObject"): lambda v, *o: to_token(v).to_json(
        indent=any("Indented" in to_text(x) for x in o)
    ),
    ("JsonConvert", "DeserializeObject"): lambda s, *_: parse_json(to_text(s)),
    ("Regex", "IsMatch"): lambda s, p, *o: R.search(p, to_text(s), regex_options(o)) is not None,
    ("Regex", "Match"): lambda s, p, *o: RegexMatch(R.search(p, to_text(s), regex_options(o))),
    ("Regex", "Replace"): lambda s, p, r, *o: R.replace(p, to_text(s), r, regex_options(o)),
    ("Regex", "Split"): lambda s, p, *o: R.split(p, to_text(s), regex_options(o)),
    ("Regex", "Escape"): lambda s: re.escape(to_text(s)),
    ("Uri", "EscapeDataString"): lambda s: urllib.parse.quote(to_text(s), safe="-_.~"),
    ("Uri", "UnescapeDataString"): lambda s: urllib.parse.unquote(to_text(s)),
    ("WebUtility", "UrlEncode"): lambda s: urllib.parse.quote_plus(to_text(s)),
    ("WebUtility", "UrlDecode"): lambda s: urllib.parse.unquote_plus(to_text(s)),
    ("WebUtility", "HtmlEncode"): lambda s: _html_encode(to_text(s)),
    ("HttpUtility", "UrlEncode"): lambda s: urllib.parse.quote_plus(to_text(s)),
    ("Enumerable", "Range"): lambda start, count: _range(to_int(start), to_int(count)),
    ("Array", "Empty"): lambda: [],
    ("Array", "Copy"): _copy,
    ("BitConverter", "GetBytes"): lambda v: list(
        int(unwrap(v)).to_bytes(8 if abs(int(unwrap(v))) >= 2**31 else 4, "little", signed=True)
    ),
    ("BitConverter", "ToString"): lambda b, *_: "-".join(f"{x:02X}" for x in to_bytes(b)),
    ("BitConverter", "IsLittleEndian"): lambda: True,
    ("Array", "Exists"): lambda items, f: any(f(i) for i in iterate(items)),
    ("Array", "IndexOf"): lambda items, v: linq.METHODS["IndexOf"](iterate(items), v),
    ("Regex", "Matches"): lambda s, p, *o: [
        RegexMatch(m) for m in R.find_all(p, to_text(s), regex_options(o))
    ],
    ("SHA256", "Create"): lambda: Hasher("sha256"),
    ("SHA1", "Create"): lambda: Hasher("sha1"),
    ("MD5", "Create"): lambda: Hasher("md5"),
}


def _html_encode(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _round(value: object, digits: object = 0) -> float:
    number = Decimal(str(unwrap(value))).quantize(Decimal(1).scaleb(-to_int(digits)))
    return float(number)


def parse_date(text: object) -> datetime:
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
        return OutResult(True, parse_date(text))
    except ExpressionError:
        return OutResult(False, datetime(1, 1, 1))


def _from_base64(text: object) -> bytes:
    try:
        return base64.b64decode(to_text(text), validate=True)
    except ValueError:
        raise ExpressionError("the text is not valid base64") from None
