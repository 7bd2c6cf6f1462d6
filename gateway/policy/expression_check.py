"""Parse every expression once at load, reporting syntax errors at their exact position.

Named values (`{{name}}`) are substituted first, as APIM does before a policy runs: with the
value when it is a plain one, otherwise with a placeholder of the same shape so that the
syntax check still sees a string where the author wrote one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gateway.common.diagnostics import Report
from gateway.expressions import Expression, ExpressionSyntaxError, compile_expression
from gateway.expressions.regex_risk import backtracking_risk, literal_patterns
from gateway.policy.tree import Value

# APIM named-value names: letters, digits, ".", "-" and "_" (so `{{ return x; }}` is code).
NAMED_VALUE = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


def substitute_named_values(text: str, values: Mapping[str, str | None]) -> str:
    """Replace `{{name}}` with its value; unknown or secret ones stay as written."""

    def value_of(match: re.Match[str]) -> str:
        value = values.get(match.group(1).strip())
        return value if value is not None else match.group()

    return NAMED_VALUE.sub(value_of, text)


class ExpressionChecker:
    """Compiles expressions, caching by source text: real files repeat the same ones."""

    def __init__(self, named_values: Mapping[str, str | None]) -> None:
        self.named_values = named_values
        self._cache: dict[str, Expression | ExpressionSyntaxError] = {}

    def compile(self, value: Value) -> Expression | ExpressionSyntaxError:
        cached = self._cache.get(value.text)
        if cached is None:
            source = substitute_named_values(value.text, self.named_values)
            try:
                cached = compile_expression(source)
            except ExpressionSyntaxError as error:
                cached = error
            self._cache[value.text] = cached
        return cached

    def unresolved(self, value: Value) -> bool:
        """True when a `{{name}}` in `value` has no value here (reported as a reference)."""
        return (
            NAMED_VALUE.search(substitute_named_values(value.text, self.named_values)) is not None
        )

    def __call__(self, value: Value, report: Report) -> None:
        result = self.compile(value)
        if isinstance(result, ExpressionSyntaxError) and not self.unresolved(value):
            offset = min(max(result.offset, 0), len(value.text))
            report.error(
                value.location.shifted(value.text[:offset]),
                "expression-syntax",
                result.message,
            )
        elif isinstance(result, Expression):
            for pattern, offset in literal_patterns(result.tree):
                risk = backtracking_risk(pattern)
                if risk is not None:
                    report.warning(
                        value.location.shifted(value.text[: min(max(offset, 0), len(value.text))]),
                        "regex-backtracking",
                        f"{risk}: a failing match may take exponential time; each request's "
                        "patterns are stopped after a time limit and the request fails",
                    )
