"""An expression's value read as a number when a statement runs (a count, a duration, a
threshold), or a 500 naming the attribute when it is not one."""

from __future__ import annotations

from gateway.expressions.values import to_text
from gateway.runtime.step import PolicyError


def whole_number(value: object, what: str, source: str, policy_id: str | None) -> int:
    """An expression's value as a count (calls, tokens); a 500 naming it when it is not one."""
    return int(number(value, what, source, policy_id, "a whole number"))


def number(
    value: object, what: str, source: str, policy_id: str | None, kind: str = "a number"
) -> float:
    """An expression's value as a number; a 500 naming the attribute when it is not one."""
    try:
        return float(to_text(value))
    except ValueError:
        raise PolicyError(
            source,
            "ExpressionValueEvaluationFailure",
            f"{what} must be {kind}, not '{to_text(value)}'",
            policy_id=policy_id,
        ) from None
