"""Counters in Redis, shared by every gateway replica that points at the same server.

Each operation is one Lua script run (one round trip) that reads, maybe adds, and sets the
keys' expiry to the window's end, atomically: `apply` checks and takes all of a statement's
counters in that one run. Keys carry a `{hash tag}` so a script on one key touches one Redis
Cluster slot; a statement's counters in several slots are taken one run each (and given back
on refusal). `add_later` returns at once: `gateway.stores.write_behind` writes the additions
after, many requests' in one run. The same code runs on one server, a Redis Cluster, or a
Sentinel-managed master (see `redis_urls`).

When Redis cannot be reached, every operation raises `StoreUnavailable` at once for a second
(`RETRY_AFTER`) instead of making each request wait for a connect timeout; the next operation
after that tries Redis again, so the gateway recovers by itself when Redis returns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from redis.crc import key_slot
from redis.exceptions import RedisClusterException, RedisError

from gateway.stores.counters import Change, Count, Failed, StoreUnavailable, Window, window_key
from gateway.stores.redis_scripts import LeanScript
from gateway.stores.redis_urls import CLUSTER, RedisConnection, parse
from gateway.stores.write_behind import Additions, WriteBehind

# KEYS: the counters. ARGV, four per key: `behind` (added first, whatever the limits: what
# this process counted behind and has not written yet), amount, limit (-1: none), and the
# milliseconds until the key's window ends ('inf'). No amount is added unless every one fits
# its limit, so a refusal has nothing to give back. Returns {fits (1/0), value} per key.
SCRIPT = """
local fits, values, all = {}, {}, true
for i = 1, #KEYS do
  local behind = tonumber(ARGV[4 * i - 3])
  if behind ~= 0 then
    values[i] = redis.call('INCRBY', KEYS[i], behind)
    if ARGV[4 * i] ~= 'inf' then
      redis.call('PEXPIRE', KEYS[i], ARGV[4 * i])
    end
  else
    values[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
  local limit = tonumber(ARGV[4 * i - 1])
  fits[i] = 1
  if limit >= 0 and values[i] + tonumber(ARGV[4 * i - 2]) > limit then
    fits[i] = 0
    all = false
  end
end
local result = {}
for i = 1, #KEYS do
  local amount = tonumber(ARGV[4 * i - 2])
  if all and amount ~= 0 then
    values[i] = redis.call('INCRBY', KEYS[i], amount)
    if ARGV[4 * i] ~= 'inf' then
      redis.call('PEXPIRE', KEYS[i], ARGV[4 * i])
    end
  end
  result[2 * i - 1] = fits[i]
  result[2 * i] = values[i]
end
return result
"""

log = logging.getLogger("aigw.stores")


class RedisCounters:
    def __init__(self, url: str) -> None:
        self._connection = RedisConnection(url)
        self._cluster = parse(url).scheme in CLUSTER
        client, lean = self._connection.client, self._connection.lean
        self._script = LeanScript(client, SCRIPT, self._cluster, lean)
        self._behind = WriteBehind(self._write)

    async def _run(self, keys: list[str], args: list[object]) -> list[int]:
        """One run of SCRIPT: one EVALSHA (the script loaded and run again on NOSCRIPT)."""
        connection = self._connection
        async with connection.turns:  # a burst queues here (and finds Redis away, if it went)
            if connection.away:
                raise StoreUnavailable(f"Redis: {connection.last_error} (retrying within a second)")
            try:
                await connection.ready()
                result = await self._script(keys, args)
            except Exception as error:  # any client failure: the limit decides (open or closed)
                if not isinstance(error, RedisError | RedisClusterException | OSError):
                    log.warning("the Redis client failed unexpectedly: %r", error)
                raise StoreUnavailable(f"Redis: {connection.failed(error)}") from None
        connection.succeeded()
        return [int(number) for number in result]

    async def apply(self, changes: Sequence[Change], now: float) -> list[Count]:
        if not changes:
            return []
        if self._cluster and len({key_slot(self._stored(c, now).encode()) for c in changes}) > 1:
            return await self._one_by_one(changes, now)
        keys, args, lefts = [], [], []
        # This process's additions to these counters not yet written go first, in this run:
        # a check sees everything the process counted before it, at no extra round trip.
        behind: Additions = {}
        for change in changes:
            start, end = change.window.bounds(now)
            stored = window_key(change.key, change.window, start)
            expiry = _milliseconds(end, now)
            queued = behind[stored] = self._behind.take(stored, expiry)
            limit = -1 if change.limit is None else change.limit
            keys.append(stored)
            args += [queued[0], change.amount, limit, _expiry(expiry)]
            lefts.append(math.inf if math.isinf(end) else max(end - now, 0.0))
        try:
            result = await self._run(keys, args)
        except StoreUnavailable:
            self._behind.put_back(behind)  # still to write: the writer will try
            raise
        return [Count(bool(result[2 * i]), result[2 * i + 1], left) for i, left in enumerate(lefts)]

    async def _one_by_one(self, changes: Sequence[Change], now: float) -> list[Count]:
        """A Redis Cluster's script touches one slot: counters in several slots are taken one
        after the other, and what was taken is given back when a later one refuses."""
        counts: list[Count] = []
        for change in changes:
            [count] = await self.apply([change], now)
            counts.append(count)
            if not count.allowed:
                break
        if all(count.allowed for count in counts):
            return counts
        taken = changes[: len(counts) - 1]
        given_back = [Change(c.key, -c.amount, c.window) for c in taken]
        counts[:-1] = [(await self.apply([change], now))[0] for change in given_back]
        for change in changes[len(counts) :]:  # not taken: would each have fitted?
            [count] = await self.apply([Change(change.key, 0, change.window)], now)
            fits = change.limit is None or count.value + change.amount <= change.limit
            counts.append(Count(fits, count.value, count.retry_after))
        return counts

    def add_later(self, changes: Sequence[Change], now: float, failed: Failed) -> None:
        for change in changes:
            start, end = change.window.bounds(now)
            stored = window_key(change.key, change.window, start)
            self._behind.add(stored, change.amount, _milliseconds(end, now), failed)

    async def _write(self, additions: Additions) -> None:
        """The additions written behind: one script run (on a Cluster, one per slot)."""
        slots: dict[int, list[str]] = {}
        for stored in additions:
            slots.setdefault(key_slot(stored.encode()) if self._cluster else 0, []).append(stored)
        for keys in slots.values():
            args: list[object] = []
            for stored in keys:
                amount, expiry = additions[stored]
                args += [amount, 0, -1, _expiry(expiry)]
            await self._run(keys, args)

    @staticmethod
    def _stored(change: Change, now: float) -> str:
        start, _ = change.window.bounds(now)
        return window_key(change.key, change.window, start)

    async def consume(self, key: str, amount: int, limit: int, window: Window, now: float) -> Count:
        return (await self.apply([Change(key, amount, window, limit)], now))[0]

    async def add(self, key: str, amount: int, window: Window, now: float) -> Count:
        return (await self.apply([Change(key, amount, window)], now))[0]

    async def peek(self, key: str, window: Window, now: float) -> Count:
        return (await self.apply([Change(key, 0, window)], now))[0]

    async def hold(self, key: str, seconds: float) -> None:
        await self._call("SET", _mark(key), "1", "PX", max(int(seconds * 1000), 1))

    async def held(self, key: str) -> float:
        left = await self._call("PTTL", _mark(key))
        return max(int(left), 0) / 1000

    async def _call(self, *command: object) -> object:
        connection = self._connection
        async with connection.turns:
            if connection.away:
                raise StoreUnavailable(f"Redis: {connection.last_error} (retrying within a second)")
            try:
                if connection.lean is not None:
                    result = await connection.lean.execute(*command)
                else:
                    result = await (await connection.ready()).execute_command(*command)
            except Exception as error:  # any client failure: the caller decides
                raise StoreUnavailable(f"Redis: {connection.failed(error)}") from None
        connection.succeeded()
        return result

    async def close(self) -> None:
        await self._behind.drain()  # what was counted behind goes in before the client closes
        await self._script.close()
        await self._connection.close()


def _milliseconds(end: float, now: float) -> float:
    """Until the window's end, plus a second of slack for clocks between replicas."""
    return math.inf if math.isinf(end) else int((end - now) * 1000) + 1000


def _expiry(milliseconds: float) -> str:
    return "inf" if math.isinf(milliseconds) else str(int(milliseconds))


def _mark(key: str) -> str:
    return f"aigw:mark:{{{key}}}"
