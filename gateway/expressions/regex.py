"""System.Text.RegularExpressions, in .NET's dialect (named groups `(?<n>...)`)."""

from __future__ import annotations

import re

from gateway.expressions.model import ModelObject
from gateway.expressions.values import (
    ExpressionError,
    to_text,
)


def regex_options(options: tuple[object, ...]) -> int:
    flags = 0
    for option in options:
        if "IgnoreCase" in to_text(option):
            flags |= re.IGNORECASE
        if "Multiline" in to_text(option):
            flags |= re.MULTILINE
    return flags


def net_regex(pattern: object) -> str:
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
        self.pattern = net_regex(pattern)
        self.flags = regex_options(options)

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


class _Group(ModelObject):
    EXTRA_MEMBERS = frozenset({"Value", "Success"})

    def __init__(self, value: str | None) -> None:
        self.Value = value or ""
        self.Success = value is not None
