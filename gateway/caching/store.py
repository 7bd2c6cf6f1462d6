"""The cache contracts: bytes under a key for a time (in the process or in Redis), and
semantic-cache vectors by partition.

A cache never fails a request: a store that cannot be reached returns a miss for every read
and drops writes, and says so in the log once a minute (APIM: "cache failures do not fail
the request").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class CacheStore(Protocol):
    name: str  # "memory" or "redis", for metrics and logs

    async def get(self, key: str) -> bytes | None:
        """The value stored under `key`, or None (absent, expired, or the store is away)."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store `value` for `ttl` seconds (a ttl of 0 or less stores nothing)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class VectorIndex(Protocol):
    """Semantic-cache vectors by partition (gateway.caching.vectors / redis_vectors)."""

    async def add(self, partition: str, entry_id: str, vector: np.ndarray, ttl: float) -> None: ...

    async def nearest(self, partition: str, vector: np.ndarray) -> tuple[str, float] | None:
        """The most similar live entry in the partition and its cosine similarity."""
        ...

    async def remove(self, partition: str, entry_id: str) -> None: ...

    async def close(self) -> None: ...
