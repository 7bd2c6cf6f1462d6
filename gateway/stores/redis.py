"""Counters in Redis, shared by every gateway replica that points at the same server.

Each operation is one Lua script run (one round trip) that reads, maybe adds, and sets the
key's expiry to the window's end, atomically. Keys carry a `{hash tag}` so a script touches one
Redis Cluster slot. The same code runs on one server, a Redis Cluster, or a Sentinel-managed
master (see `redis_urls`).

When Redis cannot be reached, every operation raises `StoreUnavailable` at once for a second
(`RETRY_AFTER`) instead of making each request wait for a connect timeout; the next operation
after that tries Redis again, so the gateway recovers by itself when Redis returns.
"""

from __future__ import annotations

import logging
import math

from redis.exceptions import RedisClusterException, RedisError

from gateway.stores.counters import Count, StoreUnavailable, Window, window_key
from gateway.stores.redis_urls import RedisConnection

# KEYS[1] counter; ARGV: amount, limit (-1: none), milliseconds until the window ends ('inf').
# Returns {added (1/0), value}.
SCRIPT = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if limit >= 0 and value + amount > limit then
  return {0, value}
end
if amount ~= 0 then
  value = redis.call('INCRBY', KEYS[1], amount)
  if ARGV[3] ~= 'inf' then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
  end
end
return {1, value}
"""

log = logging.getLogger("aigw.stores")


class RedisCounters:
    def __init__(self, url: str) -> None:
        self._connection = RedisConnection(url)
        self._script = self._connection.client.register_script(SCRIPT)

    async def _run(self, key: str, amount: int, limit: int, window: Window, now: float) -> Count:
        connection = self._connection
        if connection.away:
            raise StoreUnavailable(f"Redis: {connection.last_error} (retrying within a second)")
        start, end = window.bounds(now)
        # Relative to the caller's clock, plus a second of slack for clocks between replicas.
        expiry = "inf" if math.isinf(end) else str(int((end - now) * 1000) + 1000)
        try:
            await connection.ready()
            added, value = await self._script(
                keys=[window_key(key, window, start)], args=[amount, limit, expiry]
            )
        except Exception as error:  # any client failure: the limit decides (open or closed)
            if not isinstance(error, RedisError | RedisClusterException | OSError):
                log.warning("the Redis client failed unexpectedly: %r", error)
            raise StoreUnavailable(f"Redis: {connection.failed(error)}") from None
        connection.succeeded()
        left = math.inf if math.isinf(end) else max(end - now, 0.0)
        return Count(bool(added), int(value), left)

    async def consume(self, key: str, amount: int, limit: int, window: Window, now: float) -> Count:
        return await self._run(key, amount, limit, window, now)

    async def add(self, key: str, amount: int, window: Window, now: float) -> Count:
        return await self._run(key, amount, -1, window, now)

    async def peek(self, key: str, window: Window, now: float) -> Count:
        return await self._run(key, 0, -1, window, now)

    async def hold(self, key: str, seconds: float) -> None:
        await self._call("SET", _mark(key), "1", "PX", max(int(seconds * 1000), 1))

    async def held(self, key: str) -> float:
        left = await self._call("PTTL", _mark(key))
        return max(int(left), 0) / 1000

    async def _call(self, *command: object) -> object:
        connection = self._connection
        if connection.away:
            raise StoreUnavailable(f"Redis: {connection.last_error} (retrying within a second)")
        try:
            result = await (await connection.ready()).execute_command(*command)
        except Exception as error:  # any client failure: the caller decides
            raise StoreUnavailable(f"Redis: {connection.failed(error)}") from None
        connection.succeeded()
        return result

    async def close(self) -> None:
        await self._connection.close()


def _mark(key: str) -> str:
    return f"aigw:mark:{{{key}}}"
