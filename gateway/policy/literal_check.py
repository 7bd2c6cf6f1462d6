"""Checks of literal values against their declared kind (int, bool, enum, duration, ...)."""

from __future__ import annotations

import re

from gateway.common.literals import parse_bool, parse_duration
from gateway.common.url_paths import url_problem
from gateway.policy.spec import Kind

_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


def check_literal(
    text: str,
    kind: Kind,
    *,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
) -> str | None:
    """None when `text` is a valid literal of `kind`; otherwise what is wrong, as advice."""
    stripped = text.strip()
    if kind is Kind.INT:
        if not re.fullmatch(r"[+-]?\d+", stripped):
            return f"'{text}' is not a whole number"
        return _check_range(int(stripped), minimum, maximum)
    if kind is Kind.NUMBER:
        try:
            number = float(stripped)
        except ValueError:
            return f"'{text}' is not a number"
        return _check_range(number, minimum, maximum)
    if kind is Kind.BOOL:
        return None if parse_bool(stripped) is not None else f"'{text}' is not 'true' or 'false'"
    if kind is Kind.ENUM:
        if stripped in choices:
            return None
        folded = {c.lower(): c for c in choices}
        if stripped.lower() in folded:
            return f"'{text}' must be written '{folded[stripped.lower()]}'"
        return f"'{text}' is not one of: {', '.join(choices)}"
    if kind is Kind.DURATION:
        seconds = parse_duration(stripped)
        if seconds is None:
            return f"'{text}' is not a duration; write seconds (30) or ISO 8601 (PT30S)"
        return _check_range(seconds, minimum, maximum)
    if kind is Kind.URL:
        return url_problem(stripped, ("http", "https", "ws", "wss"))
    if kind is Kind.HTTP_METHOD:
        if stripped.upper() in _HTTP_METHODS:
            return None
        return f"'{text}' is not an HTTP method ({', '.join(_HTTP_METHODS)})"
    return None


def _check_range(number: float, minimum: float | None, maximum: float | None) -> str | None:
    if minimum is not None and number < minimum:
        return f"{_fmt(number)} is below the minimum {_fmt(minimum)}"
    if maximum is not None and number > maximum:
        return f"{_fmt(number)} is above the maximum {_fmt(maximum)}"
    return None


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
