"""Totals from the ledger: calls, tokens and dollars, grouped by any of its dimensions.

Rows are plain dicts of strings and integers (a cost is its exact decimal, as text), so that
`aigw usage` prints them as text, JSON or CSV and the admin API can serve the same.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from gateway.ledger.databases import Database
from gateway.ledger.schema import TABLE

# A dimension's name -> its column ("model" is the model that served the call).
DIMENSIONS = {
    "subscription": "subscription",
    "product": "product",
    "api": "api",
    "operation": "operation",
    "model": "model_served",
    "backend": "backend",
    "day": "day",
}
MEASURES = (
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost",
)
Row = dict[str, str | int | None]
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def dimensions(text: str) -> list[str]:
    """`subscription,model` as a list, each a known dimension (else ValueError naming them)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown --by {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}")
    return names


def moment(text: str, now: float | None = None) -> float:
    """`7d`, `24h`, `30m`, `2w` ago, or a UTC date or time (`2026-12-01`, `2026-12-01T06:00`)."""
    found = re.fullmatch(r"(\d+)([mhdw])", text.strip())
    if found:
        return (time.time() if now is None else now) - int(found.group(1)) * _UNITS[found.group(2)]
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration (7d, 24h, 30m) nor a date") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


async def totals(
    database: Database,
    by: Sequence[str],
    since: float | None = None,
    until: float | None = None,
) -> list[Row]:
    """One row per group of `by` (one row in all when `by` is empty), in the groups' order."""
    keys = [DIMENSIONS[name] for name in by]
    cost = "decimal_sum(cost)" if database.dialect == "sqlite" else "SUM(cost)"
    sums = ", ".join(
        f"COALESCE(SUM({column}), 0)"
        for column in ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens")
    )
    where, parameters = time_window(since, until)
    sql = f"SELECT {''.join(k + ', ' for k in keys)}COUNT(*), {sums}, {cost} FROM {TABLE}{where}"
    if keys:
        # NULLS LAST: both databases put calls without a subscription (or model) last.
        order = ", ".join(f"{key} NULLS LAST" for key in keys)
        sql += f" GROUP BY {', '.join(keys)} ORDER BY {order}"
    rows = await database.fetch(sql, parameters)
    result: list[Row] = []
    for row in rows:
        named: Row = {name: text_of(value) for name, value in zip(by, row, strict=False)}
        counts = row[len(keys) :]
        if not keys and counts[0] == 0:
            counts = (0, 0, 0, 0, 0, None)
        for measure, value in zip(MEASURES[:-1], counts[:-1], strict=True):
            named[measure] = int(str(value))
        named["cost"] = decimal_text(counts[-1])
        result.append(named)
    return result


def time_window(since: float | None, until: float | None) -> tuple[str, list[object]]:
    conditions, parameters = [], []
    if since is not None:
        conditions.append("time >= ?")
        parameters.append(since)
    if until is not None:
        conditions.append("time < ?")
        parameters.append(until)
    return (" WHERE " + " AND ".join(conditions) if conditions else ""), parameters


def text_of(value: object) -> str | None:
    return None if value is None else str(value)


def decimal_text(value: object) -> str:
    """A sum of costs as exact decimal text ("0" when nothing was priced)."""
    if value is None:
        return "0"
    return format(Decimal(str(value)).normalize(), "f")
