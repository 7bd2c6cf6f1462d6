"""The Redis cache: entries shared by every replica, each key expiring with its entry.

Keys are `aigw:cache:{key}` so that a Redis Cluster puts each entry in the slot of its own
hash tag. A failed call is a miss (or a dropped write), logged once a minute; while Redis is
away, calls fail at once and the cache recovers by itself when it returns.
"""

from __future__ import annotations

import logging
import time

from gateway.stores.redis_urls import RedisConnection

log = logging.getLogger("aigw.cache")

WARN_EVERY = 60.0


class RedisOutages:
    """Logs an unreachable Redis once a minute, not once per request."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._warned = -WARN_EVERY

    def failed(self, connection: RedisConnection, error: Exception) -> None:
        reason = connection.failed(error)
        if time.monotonic() - self._warned > WARN_EVERY:
            self._warned = time.monotonic()
            log.warning("%s: Redis is unreachable; serving without it (%s)", self.what, reason)


class RedisCache:
    name = "redis"

    def __init__(self, url: str) -> None:
        self._connection = RedisConnection(url)
        self._outages = RedisOutages("the cache")

    async def get(self, key: str) -> bytes | None:
        if self._connection.away:
            return None
        try:
            async with self._connection.turns:  # a burst queues for the connections
                value = await (await self._connection.ready()).get(_stored(key))
        except Exception as error:  # any client failure is a miss: caches fail open
            self._outages.failed(self._connection, error)
            return None
        self._connection.succeeded()
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0 or self._connection.away:
            return
        try:
            async with self._connection.turns:
                client = await self._connection.ready()
                await client.set(_stored(key), value, px=max(int(ttl * 1000), 1))
        except Exception as error:
            self._outages.failed(self._connection, error)

    async def delete(self, key: str) -> None:
        if self._connection.away:
            return
        try:
            async with self._connection.turns:
                await (await self._connection.ready()).delete(_stored(key))
        except Exception as error:
            self._outages.failed(self._connection, error)

    async def close(self) -> None:
        await self._connection.close()


def _stored(key: str) -> str:
    return f"aigw:cache:{{{key}}}"
