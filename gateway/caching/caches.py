"""Which cache a statement uses: APIM's `caching-type` over the gateway's two caches.

`internal` is the in-process cache (each replica its own); `external` is Redis, shared by
every replica, when gateway.yaml names one (`stores.cache`, else a Redis `stores.default`).
`prefer-external` (APIM's default) takes Redis when there is one and the process otherwise; so
does `external` when no Redis is configured. The semantic caches have no caching-type (as in
APIM) and behave as `prefer-external`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gateway.caching.memory import DEFAULT_MAX_BYTES, MemoryCache
from gateway.caching.store import CacheStore
from gateway.caching.vectors import DEFAULT_MAX_ENTRIES, MemoryVectors
from gateway.config.model import GatewayConfig
from gateway.stores.redis_urls import is_redis_url


class VectorIndex(Protocol):
    """Semantic-cache vectors by partition (gateway.caching.vectors / redis_vectors)."""

    async def add(self, partition: str, entry_id: str, vector: np.ndarray, ttl: float) -> None: ...

    async def nearest(self, partition: str, vector: np.ndarray) -> tuple[str, float] | None:
        """The most similar live entry in the partition and its cosine similarity."""
        ...

    async def remove(self, partition: str, entry_id: str) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Caches:
    internal: CacheStore
    external: CacheStore | None = None
    internal_vectors: VectorIndex = field(default_factory=MemoryVectors)
    external_vectors: VectorIndex | None = None

    def pick(self, caching_type: str | None) -> CacheStore:
        if caching_type == "internal" or self.external is None:
            return self.internal
        return self.external

    def vectors(self, caching_type: str | None) -> VectorIndex:
        if caching_type == "internal" or self.external_vectors is None:
            return self.internal_vectors
        return self.external_vectors

    async def close(self) -> None:
        await self.internal.close()
        if self.external is not None:
            await self.external.close()
        if self.external_vectors is not None:
            await self.external_vectors.close()


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


# A request context without a gateway (tests, `aigw` tools) caches in this process.
LOCAL = Caches(MemoryCache())
