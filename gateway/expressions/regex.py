"""System.Text.RegularExpressions, in .NET's dialect (named groups `(?<n>...)`), with a time
limit: what .NET does with a match timeout, on every pattern.

Patterns run on the `regex` package rather than `re` because `re` cannot be stopped: a
pattern such as `^(a+)+$` against 30 characters of a header backtracks for minutes, and the
event loop with it. `regex` takes a timeout, and each call gets the time the evaluation has
left (allowance.py), so an expression's patterns together never run longer than
`REGEX_SECONDS`; running out fails the expression as .NET's RegexMatchTimeoutException would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from gateway.expressions.allowance import (
    MAX_PATTERN,
    REGEX_TIMED_OUT,
    allocate,
    allocate_items,
    regex_time_left,
    spent_regex_time,
)
from gateway.expressions.model import ModelObject
from gateway.expressions.values import ExpressionError, to_text

_NAMED_GROUP = re.compile(r"\(\?<(\w+)>")
# Compiled patterns by (pattern, flags): the package's own cache costs microseconds a call.
_COMPILED: dict[tuple[str, int], Any] = {}
_CACHE_SIZE = 256


def regex_options(options: tuple[object, ...]) -> int:
    flags = 0
    for option in options:
        if "IgnoreCase" in to_text(option):
            flags |= re.IGNORECASE  # the same values in `regex`
        if "Multiline" in to_text(option):
            flags |= re.MULTILINE
    return flags


def net_regex(pattern: object) -> str:
    return _NAMED_GROUP.sub(r"(?P<\1>", to_text(pattern))


def compiled(pattern: object, flags: int) -> Any:
    """The compiled form of a .NET pattern (an error for one too long or malformed)."""
    text = to_text(pattern)
    found = _COMPILED.get((text, flags))
    if found is None:
        if len(text) > MAX_PATTERN:
            raise ExpressionError(
                f"the regular expression is {len(text)} characters long; "
                f"policy expressions allow at most {MAX_PATTERN}"
            )
        import regex  # here, not at the top: 2 MB that only policies using Regex need

        try:
            found = regex.compile(net_regex(text), flags)
        except regex.error as error:
            raise ExpressionError(f"the regular expression is not valid: {error}") from None
        if len(_COMPILED) >= _CACHE_SIZE:  # patterns from requests must not grow it forever
            _COMPILED.clear()
        _COMPILED[(text, flags)] = found
    return found


def timed(call: Callable[[float], Any]) -> Any:
    """`call(timeout)` with the evaluation's regex time left, charged for what it took."""
    left = regex_time_left()
    began = time.perf_counter()
    try:
        return call(left)
    except TimeoutError:
        spent_regex_time(left)
        raise ExpressionError(REGEX_TIMED_OUT) from None
    finally:
        spent_regex_time(time.perf_counter() - began)


def search(pattern: object, text: str, flags: int) -> Any:
    compiled_ = compiled(pattern, flags)
    return timed(lambda left: compiled_.search(text, timeout=left))


def find_all(pattern: object, text: str, flags: int) -> list[Any]:
    compiled_ = compiled(pattern, flags)
    found = timed(lambda left: list(compiled_.finditer(text, timeout=left)))
    allocate_items(len(found))
    return found


def split(pattern: object, text: str, flags: int) -> list[str]:
    compiled_ = compiled(pattern, flags)
    allocate(len(text))
    parts = timed(lambda left: compiled_.split(text, timeout=left))
    allocate_items(len(parts))
    return parts


def replace(pattern: object, text: str, replacement: object, flags: int) -> str:
    """`Regex.Replace`: `$1` and `${name}` in the replacement are .NET's group references."""
    compiled_ = compiled(pattern, flags)
    template = to_text(replacement).replace("$", "\\")
    bound = len(text) + (len(text) + 1) * len(template)
    if bound > _CHARGE_AT_ONCE and "\\" not in template:  # each match adds the template
        matches = timed(lambda left: len(compiled_.findall(text, timeout=left)))
        bound = len(text) + matches * len(template)
    if bound <= _CHARGE_AT_ONCE or "\\" not in template:
        allocate(bound)
        return timed(lambda left: compiled_.sub(template, text, timeout=left))

    def expand(match: Any) -> str:  # group references: charged match by match, as it grows
        piece = match.expand(template)
        allocate(len(piece))
        return piece

    allocate(len(text))
    return timed(lambda left: compiled_.sub(expand, text, timeout=left))


# A replacement whose largest possible result is below this is charged that bound at once.
_CHARGE_AT_ONCE = 64 * 1024


class RegexMatch(ModelObject):
    EXTRA_MEMBERS = frozenset({"Success", "Value", "Groups", "Index", "Length"})

    def __init__(self, match: Any) -> None:
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
        self.flags = regex_options(options)
        self.pattern = pattern
        compiled(pattern, self.flags)  # a bad pattern fails where `new Regex` is, as in .NET

    def call(self, name: str, args: list[object]) -> object:
        text = to_text(args[0]) if args else ""
        if name == "IsMatch":
            return search(self.pattern, text, self.flags) is not None
        if name == "Match":
            return RegexMatch(search(self.pattern, text, self.flags))
        if name == "Matches":
            return [RegexMatch(m) for m in find_all(self.pattern, text, self.flags)]
        if name == "Replace":
            return replace(self.pattern, text, args[1], self.flags)
        if name == "Split":
            return split(self.pattern, text, self.flags)
        raise ExpressionError(f"Regex has no method {name}()")


class _Group(ModelObject):
    EXTRA_MEMBERS = frozenset({"Value", "Success"})

    def __init__(self, value: str | None) -> None:
        self.Value = value or ""
        self.Success = value is not None
