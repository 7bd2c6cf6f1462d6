"""The ledger over time, for the dashboard: calls, errors, latency, tokens, cost and cache hits
per time bucket and one dimension; and what the cache saved.

Rows are plain dicts like `gateway.ledger.queries.totals`' (a cost as exact decimal text).
Latency is given as its sum, so a reader adds buckets up and divides by the calls itself.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from gateway.ledger.databases import Database
from gateway.ledger.queries import DIMENSIONS, Row, decimal_text, text_of, time_window
from gateway.ledger.schema import TABLE

SERIES_MEASURES = (
    "calls",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "latency_ms",
    "cache_hits",
)
ERROR_STATUS = 400  # a call answered 4xx or 5xx counts as an error
NOTHING_SAVED: dict[str, int | float] = {
    "calls": 0,
    "cache_hits": 0,
    "hit_rate": 0.0,
    "tokens_saved": 0,
}


async def series(
    database: Database,
    by: str,
    step: int,
    since: float | None = None,
    until: float | None = None,
) -> list[Row]:
    """One row per (bucket, value of `by`) with calls in it, oldest first. `bucket`: the
    bucket's start, seconds since the epoch, a multiple of `step` seconds."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}; choose from {', '.join(DIMENSIONS)}")
    if step < 1:
        raise ValueError("step must be at least 1 second")
    key = DIMENSIONS[by]
    step = int(step)  # written into the SQL: an int, never text
    if database.dialect == "sqlite":
        bucket, cost = f"CAST(time / {step} AS INTEGER) * {step}", "decimal_sum(cost)"
    else:
        bucket, cost = f"CAST(FLOOR(time / {step}) AS BIGINT) * {step}", "SUM(cost)"
    where, parameters = time_window(since, until)
    sql = (
        f"SELECT {bucket} AS bucket, {key}, COUNT(*), "
        f"SUM(CASE WHEN status >= {ERROR_STATUS} THEN 1 ELSE 0 END), "
        f"COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), {cost}, "
        f"COALESCE(SUM(latency_ms), 0), SUM(CASE WHEN cache = 'hit' THEN 1 ELSE 0 END) "
        f"FROM {TABLE}{where} GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST"
    )
    result: list[Row] = []
    for row in await database.fetch(sql, parameters):
        calls, errors, prompt, completion, total, latency, hits = row[2:]
        result.append(
            {
                "bucket": int(str(row[0])),
                by: text_of(row[1]),
                "calls": int(str(calls)),
                "errors": int(str(errors)),
                "prompt_tokens": int(str(prompt)),
                "completion_tokens": int(str(completion)),
                "cost": decimal_text(total),
                "latency_ms": round(float(str(latency)), 3),
                "cache_hits": int(str(hits)),
            }
        )
    return result


async def cache_savings(
    database: Database, since: float | None = None, until: float | None = None
) -> dict[str, int | float]:
    """Calls, cache hits, the hit rate, and the tokens the hits saved, estimated: a hit's
    record has no tokens (no provider billed it), so each hit is counted at the mean tokens
    of the calls to the same requested model that the cache did not answer."""
    where, parameters = time_window(since, until)
    sql = (
        f"SELECT model_requested, cache = 'hit', COUNT(*), "
        f"COALESCE(SUM(prompt_tokens + completion_tokens), 0) "
        f"FROM {TABLE}{where} GROUP BY 1, 2"
    )
    calls: dict[str | None, int] = defaultdict(int)
    tokens: dict[str | None, int] = defaultdict(int)
    hits: dict[str | None, int] = defaultdict(int)
    for model, hit, count, used in await database.fetch(sql, parameters):
        name = text_of(model)
        if hit:
            hits[name] += int(str(count))
        else:
            calls[name] += int(str(count))
            tokens[name] += int(str(used))
    saved = sum(
        Decimal(tokens[model]) * hits[model] / calls[model] for model in hits if calls[model]
    )
    all_calls = sum(calls.values()) + sum(hits.values())
    all_hits = sum(hits.values())
    return {
        "calls": all_calls,
        "cache_hits": all_hits,
        "hit_rate": round(all_hits / all_calls, 4) if all_calls else 0.0,
        "tokens_saved": int(saved.to_integral_value()) if saved else 0,
    }
