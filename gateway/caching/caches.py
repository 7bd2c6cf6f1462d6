"""Which cache a statement uses: APIM's `caching-type` over the gateway's two caches.

`internal` is the in-process cache (each replica its own); `external` is Redis, shared by
every replica, when gateway.yaml names one (`stores.cache`, else a Redis `stores.default`;
gateway.proxy.wiring builds them).
`prefer-external` (APIM's default) takes Redis when there is one and the process otherwise; so
does `external` when no Redis is configured. The semantic caches have no caching-type (as in
APIM) and behave as `prefer-external`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.caching.memory import MemoryCache
from gateway.caching.store import CacheStore, VectorIndex
from gateway.caching.vectors import MemoryVectors


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


# A request context without a gateway (tests, `aigw` tools) caches in this process.
LOCAL = Caches(MemoryCache())
