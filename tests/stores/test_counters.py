"""The counter store contract, on the in-process store and on the real Redis."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from gateway.stores.counters import Change, Count, CounterStore, StoreUnavailable, Window

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


def test_a_key_counts_apart_in_each_window_and_each_kind_of_window(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store = make_store()
        await store.add(key, 7, MINUTE, 1000.0)
        await store.add(key, 2, MINUTE, 1020.0)  # the next minute
        assert (await store.peek(key, Window(60, origin=30.0), 1021.0)).value == 0
        assert (await store.peek(key, MINUTE, 1019.0)).value == 7  # back: the earlier minute
        assert (await store.peek(key, MINUTE, 1021.0)).value == 2
        assert (await store.peek(key, Window(60), 1021.0)).value == 2  # an equal window
        assert (await store.peek(key, Window(0), 1021.0)).value == 0
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


def test_apply_takes_every_counter_or_none(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store = make_store()
        both = [Change(key + ":a", 3, MINUTE, 10), Change(key + ":b", 3, MINUTE, 5)]
        taken = await store.apply(both, 1000.0)
        assert [(c.allowed, c.value) for c in taken] == [(True, 3), (True, 3)]
        refused = await store.apply(both, 1000.0)  # b would reach 6: neither is taken
        assert [(c.allowed, c.value) for c in refused] == [(True, 3), (False, 3)]
        assert refused[1].retry_after == 20.0
        read = await store.apply(
            [Change(key + ":a", 0, MINUTE), Change(key + ":b", 0, MINUTE)], 1000.0
        )
        assert [c.value for c in read] == [3, 3]
        assert await store.apply([], 1000.0) == []
        await store.close()

    asyncio.run(scenario())


def test_additions_behind_are_seen_by_the_next_check_and_written_by_close(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store, other = make_store(), make_store()
        failures: list[StoreUnavailable] = []
        changes = [Change(key + ":a", 4, MINUTE), Change(key + ":b", 2, MINUTE)]
        store.add_later(changes, 1000.0, failures.append)  # returns at once
        store.add_later(changes[:1], 1000.0, failures.append)  # merged with the first
        # The same process's next check sees them (they go in with it, same round trip).
        [count] = await store.apply([Change(key + ":a", 1, MINUTE, 9)], 1000.0)
        assert (count.allowed, count.value) == (True, 9)
        if other is not store:  # a Redis client writes what is still behind as it closes
            await store.close()
        assert (await other.peek(key + ":b", MINUTE, 1000.0)).value == 2
        assert (await other.peek(key + ":a", MINUTE, 1000.0)).value == 9
        assert failures == []
        await other.close()

    asyncio.run(scenario())


def test_concurrent_applies_over_two_counters_never_overshoot(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        replicas = [make_store() for _ in range(4)]
        gate = asyncio.Semaphore(32)  # as in test_concurrent_clients_never_overshoot
        minute, quota = (
            Change(key + ":minute", 1, MINUTE, 100),
            Change(key + ":quota", 1, MINUTE, 30),
        )

        async def take(replica: CounterStore) -> list[Count]:
            async with gate:
                return await replica.apply([minute, quota], 1000.0)

        results = await asyncio.gather(*(take(replicas[i % 4]) for i in range(200)))
        assert sum(all(c.allowed for c in counts) for counts in results) == 30
        read = [Change(minute.key, 0, MINUTE), Change(quota.key, 0, MINUTE)]
        assert [c.value for c in await replicas[0].apply(read, 1000.0)] == [30, 30]
        for replica in replicas:
            await replica.close()

    asyncio.run(scenario())
