"""Semantic-cache vectors shared through Redis, searched in the gateway.

No Redis that installs on the machines this project targets has vector search (Debian's
7.0 has neither RediSearch vectors nor Redis 8 vector sets), so the search runs here: each
partition is an append-only Redis stream (`aigw:sc:{partition}:log`, trimmed to the
partition's size, expiring with its newest entry) of (entry id, vector, expiry), and every
replica mirrors the streams it searches in a local matrix, catching up with one XRANGE of
what is new before each search (one round trip). Keys are hash-tagged by partition, so on a
Redis Cluster a partition's keys share a slot.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gateway.caching.partitions import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_PARTITIONS
from gateway.caching.redis_cache import RedisOutages
from gateway.caching.vectors import MemoryVectors
from gateway.stores.redis_urls import RedisConnection

if TYPE_CHECKING:  # numpy is loaded by the semantic cache's statements, not by a Redis cache
    import numpy as np

PAGE = 1_000  # stream entries per read (~1.5 MB of 384-d vectors)


class RedisVectors:
    def __init__(
        self,
        url: str,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_partitions: int = DEFAULT_MAX_PARTITIONS,
    ) -> None:
        self._connection = RedisConnection(url)
        self._outages = RedisOutages("the semantic cache")
        self.max_entries = max_entries
        self.mirror = MemoryVectors(max_entries, max_partitions)
        self.read_up_to: dict[str, bytes] = {}  # partition -> the last stream id mirrored

    async def add(self, partition: str, entry_id: str, vector: np.ndarray, ttl: float) -> None:
        if self._connection.away:
            return
        fields = {
            "id": entry_id,
            "v": vector.astype("float32", copy=False).tobytes(),
            "x": repr(time.time() + ttl),
        }
        try:
            async with self._connection.turns:  # a burst queues for the connections
                client = await self._connection.ready()
                pipe = client.pipeline(transaction=False)
                pipe.xadd(_log(partition), fields, maxlen=self.max_entries, approximate=True)
                pipe.pexpire(_log(partition), max(int(ttl * 1000), 1), gt=True)
                pipe.pexpire(_log(partition), max(int(ttl * 1000), 1), nx=True)
                await pipe.execute()
        except Exception as error:  # the cache fails open
            self._outages.failed(self._connection, error)

    async def nearest(self, partition: str, vector: np.ndarray) -> tuple[str, float] | None:
        if not self._connection.away:
            await self._catch_up(partition, len(vector))
        return await self.mirror.nearest(partition, vector)

    async def _catch_up(self, partition: str, dimension: int) -> None:
        """Mirror what the partition's stream gained since the last read (usually nothing:
        one round trip); a replica new to the partition reads it in pages."""
        mirrored = self.mirror.partition(partition, dimension)
        while True:
            last = self.read_up_to.get(partition)
            start = b"(" + last if last is not None else b"-"
            try:
                async with self._connection.turns:
                    client = await self._connection.ready()
                    rows = await client.xrange(_log(partition), min=start, max=b"+", count=PAGE)
            except Exception as error:  # the cache fails open: a miss
                self._outages.failed(self._connection, error)
                return
            self._connection.succeeded()
            for _, fields in rows:
                row = memoryview(fields[b"v"]).cast("f")  # float32s, copied into the matrix
                if len(row) == dimension:
                    mirrored.add(fields[b"id"].decode(), row, float(fields[b"x"]))
            if rows:
                self.read_up_to[partition] = rows[-1][0]
            if len(rows) < PAGE:
                return

    async def remove(self, partition: str, entry_id: str) -> None:
        """Forget an entry here (its completion expired); other replicas find out themselves."""
        await self.mirror.remove(partition, entry_id)

    async def close(self) -> None:
        await self._connection.close()


def _log(partition: str) -> str:
    return f"aigw:sc:{{{partition}}}:log"
