"""Which cache a statement uses: APIM's `caching-type` over the gateway's two caches.

`internal` is the in-process cache (each replica its own); `external` is Redis, shared by
every replica, when gateway.yaml names one (`stores.cache`, else a Redis `stores.default`).
`prefer-external` (APIM's default) takes Redis when there is one and the process otherwise; so
does `external` when no Redis is configured (`aigw lint` warns about that).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.caching.memory import DEFAULT_MAX_BYTES, MemoryCache
from gateway.caching.store import CacheStore
from gateway.config.model import GatewayConfig
from gateway.stores.redis_urls import is_redis_url


@dataclass(frozen=True, slots=True)
class Caches:
    internal: CacheStore
    external: CacheStore | None = None

    def pick(self, caching_type: str | None) -> CacheStore:
        if caching_type == "internal" or self.external is None:
            return self.internal
        return self.external

    async def close(self) -> None:
        await self.internal.close()
        if self.external is not None:
            await self.external.close()


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
    if url is None:
        return Caches(internal)
    from gateway.caching.redis_cache import RedisCache

    return Caches(internal, RedisCache(url))


# A request context without a gateway (tests, `aigw` tools) caches in this process.
LOCAL = Caches(MemoryCache())
