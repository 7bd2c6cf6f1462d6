"""The cache store contract on the in-process cache, Redis and Redis Cluster."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from gateway.caching.memory import MemoryCache
from gateway.caching.redis_cache import RedisCache
from gateway.caching.store import CacheStore


def test_values_are_shared_expire_and_can_be_deleted(make_cache: Callable[[], CacheStore]) -> None:
    key = uuid.uuid4().hex

    async def scenario() -> None:
        writer, reader = make_cache(), make_cache()  # two replicas' clients for Redis
        assert await reader.get(key) is None
        await writer.set(key, b"answer", 0.3)
        assert await reader.get(key) == b"answer"
        await asyncio.sleep(0.4)
        assert await reader.get(key) is None  # expired
        await writer.set(key, b"again", 60)
        await reader.delete(key)
        assert await writer.get(key) is None
        await writer.set(key, b"never", 0)  # no lifetime: nothing stored
        assert await reader.get(key) is None
        await writer.close()
        await reader.close()

    asyncio.run(scenario())


def test_the_memory_cache_evicts_the_least_recently_used_within_its_bytes() -> None:
    async def scenario() -> None:
        cache = MemoryCache(max_bytes=3 * (1000 + 1 + 100))
        for name in "abc":
            await cache.set(name, b"x" * 1000, 60)
        assert await cache.get("a") is not None  # a is now the most recently used
        await cache.set("d", b"x" * 1000, 60)
        assert await cache.get("b") is None  # b was the least recently used
        assert [await cache.get(k) is not None for k in "acd"] == [True, True, True]
        assert cache.used <= cache.max_bytes and len(cache) == 3
        await cache.set("huge", b"x" * 10_000, 60)  # larger than the whole cache: not kept
        assert await cache.get("huge") is None and len(cache) == 3

    asyncio.run(scenario())


def test_an_unreachable_redis_is_a_miss_not_an_error() -> None:
    async def scenario() -> None:
        cache = RedisCache("redis://127.0.0.1:1/0")
        await cache.set("k", b"v", 60)
        assert await cache.get("k") is None
        await cache.delete("k")
        await cache.close()

    asyncio.run(scenario())
