"""The Redis cache: entries shared by every replica, each key expiring with its entry.

Keys are `aigw:cache:{key}` so that a Redis Cluster puts each entry in the slot of its own
hash tag. A failed call is a miss (or a dropped write), logged once a minute.
"""

from __future__ import annotations

import logging
import time

from gateway.stores.redis_urls import RedisConnection

log = logging.getLogger("aigw.cache")

WARN_EVERY = 60.0
RETRY_AFTER = 1.0  # seconds during which a failed Redis is not asked again


class RedisCache:
    name = "redis"

    def __init__(self, url: str) -> None:
        self._connection = RedisConnection(url)
        self._down_until = 0.0
        self._warned = -WARN_EVERY

    async def get(self, key: str) -> bytes | None:
        if self._away():
            return None
        try:
            value = await (await self._connection.ready()).get(_stored(key))
        except Exception as error:
            self._failed(error)
            return None
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0 or self._away():
            return
        try:
            client = await self._connection.ready()
            await client.set(_stored(key), value, px=max(int(ttl * 1000), 1))
        except Exception as error:
            self._failed(error)

    async def delete(self, key: str) -> None:
        if self._away():
            return
        try:
            await (await self._connection.ready()).delete(_stored(key))
        except Exception as error:
            self._failed(error)

    async def close(self) -> None:
        await self._connection.close()

    def _away(self) -> bool:
        return bool(self._down_until) and time.monotonic() < self._down_until

    def _failed(self, error: Exception) -> None:
        self._down_until = time.monotonic() + RETRY_AFTER
        if time.monotonic() - self._warned > WARN_EVERY:
            self._warned = time.monotonic()
            log.warning("the Redis cache is unreachable; serving without it (%s)", error)


def _stored(key: str) -> str:
    return f"aigw:cache:{{{key}}}"
