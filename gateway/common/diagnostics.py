"""Diagnostics: what every loader, parser and checker reports instead of raising.

A diagnostic names a place (`path:line:col`, 1-based), a severity, a stable rule id and a
message that says how to fix the problem. Loading collects them all so that an author sees
every problem at once; `DiagnosticError` carries a non-empty list out of an API that cannot
return a partial result.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Location:
    """A position in a source file. `line` and `column` are 1-based."""

    path: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def shifted(self, text: str) -> Location:
        """The location just after `text` when `text` starts at this location."""
        newlines = text.count("\n")
        if newlines == 0:
            return Location(self.path, self.line, self.column + len(text))
        return Location(self.path, self.line + newlines, len(text) - text.rfind("\n"))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    location: Location
    severity: Severity
    rule: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message} [{self.rule}]"

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "severity": self.severity.value,
            "rule": self.rule,
            "message": self.message,
        }


class Report:
    """An ordered collection of diagnostics that checkers append to."""

    def __init__(self, diagnostics: Iterable[Diagnostic] = ()) -> None:
        self._items: list[Diagnostic] = list(diagnostics)

    def error(self, location: Location, rule: str, message: str) -> None:
        self._items.append(Diagnostic(location, Severity.ERROR, rule, message))

    def warning(self, location: Location, rule: str, message: str) -> None:
        self._items.append(Diagnostic(location, Severity.WARNING, rule, message))

    def add(self, diagnostic: Diagnostic) -> None:
        self._items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self._items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self._items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self._items if d.is_error]

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics in file order, stable for equal positions; duplicates removed."""
        unique = dict.fromkeys(self._items)
        return sorted(unique, key=lambda d: (d.location.path, d.location.line, d.location.column))

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class DiagnosticError(Exception):
    """Raised by APIs that cannot produce a result; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0].format() if self.diagnostics else "no diagnostics"
        more = len(self.diagnostics) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))
