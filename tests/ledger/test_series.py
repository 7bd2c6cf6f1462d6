"""The ledger over time (the dashboard's charts) on SQLite and PostgreSQL alike: calls, errors,
tokens, exact cost, latency and cache hits per bucket and dimension, and the cache's savings."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from gateway.ledger.databases import open_database
from gateway.ledger.record import Record, day_of
from gateway.ledger.series import cache_savings, series

T0 = 1_796_000_400.0  # a multiple of 60 and of 3600


def call(
    at: float,
    subscription: str | None,
    model: str | None,
    *,
    tokens: tuple[int, int] = (100, 20),
    cost: str | None = "0.001",
    status: int = 200,
    hit: bool = False,
    latency: float = 10.0,
) -> Record:
    prompt, completion = (0, 0) if hit else tokens
    return Record(
        time=at, day=day_of(at), request_id=f"r{at}{subscription}{model}{status}",
        subscription=subscription, product=None, api="chat", operation="create",
        model_requested="m", model_served=None if hit else model, backend=None if hit else "p",
        attempts=0 if hit else 1, attempt_log="", prompt_tokens=prompt,
        completion_tokens=completion, cached_tokens=0, cache_write_tokens=0, reasoning_tokens=0,
        cost=None if hit or cost is None else Decimal(cost), price_date=None,
        cache="hit" if hit else None, status=status, latency_ms=latency,
    )  # fmt: skip


CALLS = [
    call(T0 + 1, "team-a", "m-1", cost="0.0001", latency=10),
    call(T0 + 59, "team-a", "m-1", tokens=(300, 40), cost="0.0002", latency=30),
    call(T0 + 61, "team-b", "m-1", status=429, tokens=(0, 0), cost=None, latency=2),
    call(T0 + 62, "team-a", "m-2", tokens=(50, 10), cost="0.00003", latency=5),
    call(T0 + 90, "team-a", None, hit=True, latency=1),
    call(T0 - 7200, "team-a", "m-1"),  # before the window
]


def written(url: str, *asked: tuple[str, int, float]) -> list[tuple[list, dict]]:
    """The calls written to a fresh ledger, then each (by, step, since) asked of it."""

    async def run() -> list[tuple[list, dict]]:
        database = open_database(url)
        try:
            await database.migrate()
            await database.write(CALLS)
            return [
                (
                    await series(database, by, step, since, T0 + 3600),
                    await cache_savings(database, since, T0 + 3600),
                )
                for by, step, since in asked
            ]
        finally:
            await database.close()

    return asyncio.run(run())


def test_calls_per_minute_and_subscription(ledger_url: str) -> None:
    [(rows, savings)] = written(ledger_url, ("subscription", 60, T0))
    assert [(r["bucket"], r["subscription"]) for r in rows] == [
        (T0, "team-a"),
        (T0 + 60, "team-a"),
        (T0 + 60, "team-b"),
    ]
    first, second, refused = rows
    assert first == {
        "bucket": int(T0),
        "subscription": "team-a",
        "calls": 2,
        "errors": 0,
        "prompt_tokens": 400,
        "completion_tokens": 60,
        "cost": "0.0003",
        "latency_ms": 40.0,
        "cache_hits": 0,
    }
    assert (second["calls"], second["cache_hits"], second["cost"]) == (2, 1, "0.00003")
    assert (refused["errors"], refused["cost"]) == (1, "0")
    # 5 calls, 1 hit; the hit counted at the mean of m's 4 other calls: (460 + 0 + 60) / 4.
    assert savings == {"calls": 5, "cache_hits": 1, "hit_rate": 0.2, "tokens_saved": 130}


def test_one_bucket_per_hour_by_model_and_by_api(ledger_url: str) -> None:
    (rows, _), (everything, _) = written(ledger_url, ("model", 3600, T0), ("api", 3600, T0 - 7200))
    assert [(r["model"], r["calls"], r["cost"]) for r in rows] == [
        ("m-1", 3, "0.0003"),
        ("m-2", 1, "0.00003"),
        (None, 1, "0"),  # the cache hit: no model served it
    ]
    assert [(r["bucket"], r["calls"]) for r in everything] == [(T0 - 7200, 1), (T0, 5)]
