"""DateTime, TimeSpan and number formatting members."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from gateway.expressions.values import (
    ExpressionError,
    Long,
    format_timespan,
    to_text,
    unwrap,
)

_EPOCH = datetime(1, 1, 1)
_DOTNET_FORMATS = [
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("hh", "%I"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("fff", "%f"),
    ("tt", "%p"),
    ("yy", "%y"),
    ("MMM", "%b"),
    ("ddd", "%a"),
]


def _net_date_format(spec: str) -> str:
    if spec in ("o", "O"):
        return "%Y-%m-%dT%H:%M:%S.%f0Z"
    if spec in ("s",):
        return "%Y-%m-%dT%H:%M:%S"
    if spec in ("u",):
        return "%Y-%m-%d %H:%M:%SZ"
    if spec in ("r", "R"):
        return "%a, %d %b %Y %H:%M:%S GMT"
    pattern = "|".join(re.escape(k) for k, _ in sorted(_DOTNET_FORMATS, key=lambda p: -len(p[0])))
    table = dict(_DOTNET_FORMATS)
    return re.sub(pattern, lambda m: table[m.group()], spec.replace("'", ""))


def time_member(value: datetime | timedelta, name: str) -> object:
    if isinstance(value, timedelta):
        members = {
            "TotalSeconds": value.total_seconds(),
            "TotalMilliseconds": value.total_seconds() * 1000,
            "TotalMinutes": value.total_seconds() / 60,
            "TotalHours": value.total_seconds() / 3600,
            "TotalDays": value.total_seconds() / 86400,
            "Seconds": int(value.total_seconds()) % 60,
            "Minutes": int(value.total_seconds()) // 60 % 60,
            "Hours": int(value.total_seconds()) // 3600 % 24,
            "Days": int(value.total_seconds()) // 86400,
            "Ticks": Long(value.total_seconds() * 10_000_000),
        }
    else:
        members = {
            "Year": value.year,
            "Month": value.month,
            "Day": value.day,
            "Hour": value.hour,
            "Minute": value.minute,
            "Second": value.second,
            "Millisecond": value.microsecond // 1000,
            "DayOfWeek": value.strftime("%A"),
            "Date": value.replace(hour=0, minute=0, second=0, microsecond=0),
            "Ticks": Long((value - _EPOCH).total_seconds() * 10_000_000),
            "UtcDateTime": value,
            "DateTime": value,
        }
    if name not in members:
        raise ExpressionError(f"{type(value).__name__} has no member '{name}'")
    return members[name]


def call_time_method(value: datetime | timedelta, name: str, args: list[object]) -> object:
    if isinstance(value, datetime):
        adders = {
            "AddSeconds": "seconds",
            "AddMinutes": "minutes",
            "AddHours": "hours",
            "AddDays": "days",
            "AddMilliseconds": "milliseconds",
        }
        if name in adders:
            return value + timedelta(**{adders[name]: float(unwrap(args[0]))})  # type: ignore[arg-type]
        if name == "Add":
            return value + args[0]  # type: ignore[operator]
        if name == "Subtract":
            return value - args[0]  # type: ignore[operator]
        if name == "ToUnixTimeSeconds":
            return int((value - datetime(1970, 1, 1)).total_seconds())
        if name == "ToUnixTimeMilliseconds":
            return int((value - datetime(1970, 1, 1)).total_seconds() * 1000)
        if name in ("ToUniversalTime", "ToLocalTime"):
            return value
        if name == "ToString":
            if not args:
                return to_text(value)
            return value.strftime(_net_date_format(to_text(args[0])))
        if name == "ToShortDateString":
            return value.strftime("%-m/%-d/%Y")
    elif name == "ToString":
        return format_timespan(value)
    raise ExpressionError(f"{type(value).__name__} has no method {name}()")


def format_number(value: object, spec: str) -> str:
    value = unwrap(value)
    if isinstance(value, datetime):
        return value.strftime(_net_date_format(spec))
    if not isinstance(value, int | float):
        return to_text(value)
    match = re.fullmatch(r"([NnFfDdXxPp])(\d*)", spec)
    if not match:
        return to_text(value)
    kind, digits = match.group(1).upper(), match.group(2)
    places = int(digits) if digits else 2
    if kind == "N":
        return f"{value:,.{places}f}"
    if kind == "F":
        return f"{value:.{places}f}"
    if kind == "D":
        return f"{int(value):0{int(digits or 0)}d}"
    if kind == "X":
        text = f"{int(value):0{int(digits or 0)}x}"
        return text.upper() if match.group(1) == "X" else text
    return f"{value * 100:.{places}f} %"
