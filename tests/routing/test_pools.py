"""Pool members chosen as APIM balances: round-robin, weights, priority groups, open breakers."""

from __future__ import annotations

import asyncio
from collections import Counter

from gateway.config.backends import Backend, Pool, PoolMember
from gateway.config.secrets import ConfigValue
from gateway.routing.breakers import Breakers
from gateway.routing.pools import Latencies, Pools
from gateway.stores.memory import MemoryCounters
from tests.routing.breaker import OPENS_ON_A_5XX


def pool(*members: PoolMember) -> tuple[Pools, Breakers]:
    backends = {
        m.backend: Backend(
            id=m.backend, url=ConfigValue("http://x"), circuit_breaker=OPENS_ON_A_5XX
        )
        for m in members
    }
    backends["pool"] = Backend(id="pool", pool=Pool(strategy="round-robin", services=members))
    breakers = Breakers(backends, MemoryCounters())
    return Pools(backends, breakers, Latencies()), breakers


def picks(pools: Pools, count: int) -> Counter[str | None]:
    async def scenario() -> Counter[str | None]:
        return Counter([await pools.choose("pool") for _ in range(count)])

    return asyncio.run(scenario())


def test_round_robin_and_weights_share_exactly() -> None:
    even, _ = pool(PoolMember(backend="a"), PoolMember(backend="b"), PoolMember(backend="c"))
    assert picks(even, 300) == {"a": 100, "b": 100, "c": 100}
    weighted, _ = pool(PoolMember(backend="a", weight=3), PoolMember(backend="b", weight=1))
    assert picks(weighted, 400) == {"a": 300, "b": 100}


def test_a_lower_priority_gets_traffic_only_while_every_higher_breaker_is_open() -> None:
    pools, breakers = pool(
        PoolMember(backend="main-1", priority=1),
        PoolMember(backend="main-2", priority=1),
        PoolMember(backend="spare", priority=2),
    )
    assert picks(pools, 100) == {"main-1": 50, "main-2": 50}
    asyncio.run(breakers.record("main-1", 500, None, None))
    assert picks(pools, 10) == {"main-2": 10}  # the open member is skipped
    asyncio.run(breakers.record("main-2", 503, None, None))
    assert picks(pools, 10) == {"spare": 10}
    asyncio.run(breakers.record("spare", 502, None, None))
    assert picks(pools, 3) == {None: 3}  # the pool is unavailable


def test_without_breakers_the_unguarded_choice_is_the_choice() -> None:
    # No backend has a breaker: choose reads none, and choose_unguarded (no coroutine) gives
    # the very same members in the same order, weights and priority groups included.
    members = (
        PoolMember(backend="a", weight=3),
        PoolMember(backend="b", weight=1),
        PoolMember(backend="c", weight=2),
        PoolMember(backend="spare", priority=2),
    )

    def unguarded() -> Pools:
        backends = {m.backend: Backend(id=m.backend, url=ConfigValue("http://x")) for m in members}
        backends["pool"] = Backend(id="pool", pool=Pool(strategy="round-robin", services=members))
        return Pools(backends, Breakers(backends, MemoryCounters()), Latencies())

    awaited, plain = unguarded(), unguarded()

    async def scenario() -> list[str | None]:
        return [await awaited.choose("pool") for _ in range(60)]

    chosen = asyncio.run(scenario())
    assert chosen == [plain.choose_unguarded("pool") for _ in range(60)]
    assert Counter(chosen) == {"a": 30, "b": 10, "c": 20}
