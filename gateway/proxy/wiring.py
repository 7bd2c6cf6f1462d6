"""The composition root: the stores, caches and services gateway.yaml asks for, built once.

Lower packages know nothing of gateway.yaml; this module reads it and builds their parts.
"""

from __future__ import annotations

from gateway.caching.caches import Caches
from gateway.caching.memory import DEFAULT_MAX_BYTES, MemoryCache
from gateway.caching.vectors import DEFAULT_MAX_ENTRIES, MemoryVectors
from gateway.config.model import GatewayConfig
from gateway.stores.counters import CounterStore
from gateway.stores.memory import MemoryCounters
from gateway.stores.redis_urls import is_redis_url


def counter_store(config: GatewayConfig) -> CounterStore:
    """`stores.default`: `memory` or a Redis URL."""
    setting = config.stores.get("default")
    url = setting.resolve().strip() if setting is not None else "memory"
    if is_redis_url(url):
        from gateway.stores.redis import RedisCounters

        return RedisCounters(url)
    return MemoryCounters()


def external_cache_url(config: GatewayConfig) -> str | None:
    """The Redis URL caches share, if gateway.yaml names one."""
    for name in ("cache", "default"):
        setting = config.stores.get(name)
        if setting is not None:
            url = setting.resolve().strip()
            if is_redis_url(url):
                return url
            if name == "cache":  # `cache: memory` keeps caches in the process
                return None
    return None


def caches_for(config: GatewayConfig) -> Caches:
    url = external_cache_url(config)
    internal = MemoryCache(config.cache_max_bytes or DEFAULT_MAX_BYTES)
    entries = config.cache_partition_entries or DEFAULT_MAX_ENTRIES
    vectors = MemoryVectors(entries)
    if url is None:
        return Caches(internal, internal_vectors=vectors)
    from gateway.caching.redis_cache import RedisCache
    from gateway.caching.redis_vectors import RedisVectors

    shared = RedisVectors(url, entries)
    return Caches(internal, RedisCache(url), internal_vectors=vectors, external_vectors=shared)
