"""What one evaluation of an expression came to, as comparable data: how the closures are held
to the reference interpreter (tests/expressions/test_closures.py, and the fuzzing's
differential target in tests/fuzz/expression_target.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from gateway.expressions import ExpressionError
from gateway.expressions.evaluation import StaticType
from gateway.expressions.model import ContextModel
from gateway.expressions.values import JToken
from tests.expressions.context_fixture import prepared_context

# Sources whose value changes from one evaluation to the next: their values' types compare.
_VARYING = re.compile(r"Now|NewGuid|Random|Ticks|GetHashCode|RequestId|Timestamp|Elapsed")
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
# A fresh context's clock, in its Python repr (`"x" + context`): made anew for each evaluation.
_CLOCK = re.compile(r"datetime\.datetime\([0-9, ]*\)|started=[0-9.e+-]+")
_PLAIN = (str, int, float, bool, Decimal, bytes, type(None))

Evaluate = Callable[[ContextModel, int], object]


def describe(value: object, varying: bool) -> object:
    """A value as comparable data (two evaluations never share their objects)."""
    if varying and isinstance(value, datetime | str | int | float):
        return type(value).__name__
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, str):  # an object's Python repr in it differs by address alone
        return ("str", _CLOCK.sub("-", _ADDRESS.sub(" at 0x-", value)))
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, JToken):
        return ("json", type(value).__name__, value.to_json(indent=False))
    if isinstance(value, list | tuple):
        return [describe(item, varying) for item in value]
    if isinstance(value, dict):
        return {key: describe(item, varying) for key, item in value.items()}
    if isinstance(value, StaticType):
        return ("static", value.name)
    if isinstance(value, datetime) and not varying:
        return ("datetime", value.isoformat())
    return type(value).__name__


def outcome(evaluate: Evaluate, source: str, budget: int) -> tuple[object, ...]:
    """The value or error of one evaluation on a fresh context, and what it left in the
    context's mutable variables."""
    context = prepared_context()
    varying = bool(_VARYING.search(source))
    try:
        result: object = ("value", describe(evaluate(context, budget), varying))
    except ExpressionError as error:
        result = ("error", error.message if not varying else "error")
    after = [describe(context.Variables[name], varying) for name in ("routes", "modelMappings")]
    return result, after
