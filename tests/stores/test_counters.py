"""The counter store contract, on the in-process store and on the real Redis."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from gateway.stores.counters import CounterStore, Window

MINUTE = Window(60)


def test_consume_stops_at_the_limit_and_adds_nothing_beyond(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store = make_store()
        results = [await store.consume(key, 2, 5, MINUTE, 1000.0) for _ in range(3)]
        assert [(r.allowed, r.value) for r in results] == [(True, 2), (True, 4), (False, 4)]
        assert results[2].retry_after == 20.0  # 1000 s is 40 s into the minute [960, 1020)
        assert (await store.peek(key, MINUTE, 1000.0)).value == 4
        await store.close()

    asyncio.run(scenario())


def test_a_new_window_starts_from_zero(make_store: Callable[[], CounterStore], key: str) -> None:
    async def scenario() -> None:
        store = make_store()
        await store.add(key, 7, MINUTE, 1000.0)
        assert (await store.peek(key, MINUTE, 1019.0)).value == 7
        assert (await store.peek(key, MINUTE, 1020.0)).value == 0
        await store.close()

    asyncio.run(scenario())


def test_windows_are_aligned_to_their_origin(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store = make_store()
        hourly = Window(3600, origin=1800.0)
        count = await store.add(key, 1, hourly, 2000.0)
        assert count.retry_after == 3400.0  # the window [1800, 5400)
        forever = Window(0)
        endless = await store.add(key + "-forever", 1, forever, 2000.0)
        assert math.isinf(endless.retry_after)
        await store.close()

    asyncio.run(scenario())


def test_concurrent_clients_never_overshoot(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        replicas = [make_store() for _ in range(4)]
        # At most 32 calls in flight: 200 at once open 200 Redis connections in the same
        # instant, and late in the full suite some of those connects outlasted the store's
        # 1 s connect timeout (StoreUnavailable, not an overshoot). 32 still interleave the
        # four replicas' scripts on the server.
        gate = asyncio.Semaphore(32)

        async def consume(replica: CounterStore) -> Any:
            async with gate:
                return await replica.consume(key, 1, 50, MINUTE, 1000.0)

        results = await asyncio.gather(*(consume(replicas[i % 4]) for i in range(200)))
        assert sum(r.allowed for r in results) == 50
        assert (await replicas[0].peek(key, MINUTE, 1000.0)).value == 50
        for replica in replicas:
            await replica.close()

    asyncio.run(scenario())


def test_a_mark_is_seen_by_every_replica_until_it_ends(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        one, two = make_store(), make_store()
        assert await two.held(key) == 0.0
        await one.hold(key, 0.3)
        assert 0.1 < await two.held(key) <= 0.3
        await asyncio.sleep(0.35)
        assert await two.held(key) == 0.0
        await one.close()
        if two is not one:
            await two.close()

    asyncio.run(scenario())
