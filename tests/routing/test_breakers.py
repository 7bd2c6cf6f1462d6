"""Circuit breakers: rules, trip times, Retry-After, and state shared through the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from gateway.config.backends import Backend, BreakerRule, CircuitBreaker, FailureCondition
from gateway.config.secrets import ConfigValue
from gateway.routing import breakers as breakers_module
from gateway.routing.breakers import Breakers
from gateway.stores.counters import CounterStore


def backends(rule: BreakerRule, name: str) -> dict[str, Backend]:
    breaker = CircuitBreaker(rules=(rule,))
    return {name: Backend(id=name, url=ConfigValue("http://x"), circuit_breaker=breaker)}


def test_count_rules_trip_on_matching_statuses_and_reasons(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    rule = BreakerRule(
        failure_condition=FailureCondition(
            interval=60,
            count=2,
            status_code_ranges=((429, 429), (500, 599)),
            error_reasons=("Timeout",),
        ),
        trip_duration=30,
    )

    async def scenario() -> None:
        breakers = Breakers(backends(rule, key), make_store())
        await breakers.record(key, 200, None, None)
        await breakers.record(key, 404, None, None)  # not a failure by this rule
        await breakers.record(key, 503, None, None)
        assert await breakers.open_for(key) == 0
        await breakers.record(key, None, "Timeout", None)
        assert 29 < await breakers.open_for(key) <= 30

    asyncio.run(scenario())


def test_accept_retry_after_sets_the_trip_time(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    rule = BreakerRule(
        failure_condition=FailureCondition(interval=60, count=1, status_code_ranges=((429, 429),)),
        trip_duration=30,
        accept_retry_after=True,
    )

    async def scenario() -> None:
        breakers = Breakers(backends(rule, key), make_store())
        await breakers.record(key, 429, None, 2.0)
        assert 1.5 < await breakers.open_for(key) <= 2.0

    asyncio.run(scenario())


def test_percentage_rules_need_enough_calls(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    rule = BreakerRule(
        failure_condition=FailureCondition(
            interval=60, percentage=50, status_code_ranges=((500, 599),)
        ),
        trip_duration=10,
    )

    async def scenario() -> None:
        breakers = Breakers(backends(rule, key), make_store())
        await breakers.record(key, 500, None, None)  # 1 of 1 failed, but too few calls
        assert await breakers.open_for(key) == 0
        for status in (200, 500, 200, 500):  # 3 of 5 failed: 60 %
            await breakers.record(key, status, None, None)
        assert await breakers.open_for(key) > 0

    asyncio.run(scenario())


def test_replicas_sharing_the_store_agree_on_an_open_breaker(
    make_store: Callable[[], CounterStore], key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = BreakerRule(
        failure_condition=FailureCondition(interval=60, count=1, status_code_ranges=((500, 599),)),
        trip_duration=30,
    )
    monkeypatch.setattr(breakers_module, "REFRESH", 0.2)  # a shorter wait for the test

    async def scenario() -> None:
        one = Breakers(backends(rule, key), make_store())
        two = Breakers(backends(rule, key), make_store())
        assert await two.open_for(key) == 0  # read (closed) and remembered briefly
        await one.record(key, 500, None, None)
        time.sleep(0.25)
        assert await two.open_for(key) > 25

    asyncio.run(scenario())
