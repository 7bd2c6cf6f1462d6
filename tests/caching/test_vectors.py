"""Nearest-neighbour search per partition: in the process, and mirrored through Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import numpy as np
import pytest

from gateway.caching.caches import VectorIndex
from gateway.caching.redis_vectors import PAGE, RedisVectors
from gateway.caching.vectors import MemoryVectors, Partition
from tests.conftest import REDIS_URL, redis_url_for, require_redis


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
def make_vectors(request: pytest.FixtureRequest) -> Callable[[], VectorIndex]:
    """Each call is another replica's index (for memory: the same one)."""
    if request.param == "memory":
        shared = MemoryVectors()
        return lambda: shared
    url = redis_url_for(request)
    return lambda: RedisVectors(url)


def test_the_nearest_entry_of_the_partition_is_found_by_another_replica(
    make_vectors: Callable[[], VectorIndex],
) -> None:
    partition, other = uuid.uuid4().hex, uuid.uuid4().hex

    async def scenario() -> None:
        writer, reader = make_vectors(), make_vectors()
        await writer.add(partition, "north", unit(0, 1, 0), 60)
        await writer.add(partition, "east", unit(1, 0, 0), 60)
        await writer.add(other, "elsewhere", unit(1, 0.1, 0), 60)
        found = await reader.nearest(partition, unit(1, 0.2, 0))
        assert found is not None and found[0] == "east"
        assert found[1] == pytest.approx(float(unit(1, 0.2, 0) @ unit(1, 0, 0)), abs=1e-6)
        assert await reader.nearest(uuid.uuid4().hex, unit(1, 0, 0)) is None  # never mixed
        await writer.add(partition, "brief", unit(1, 0.2, 0), 0.2)
        assert (await reader.nearest(partition, unit(1, 0.2, 0)) or ("",))[0] == "brief"
        await asyncio.sleep(0.3)
        assert (await reader.nearest(partition, unit(1, 0.2, 0)) or ("",))[0] == "east"
        await reader.remove(partition, "east")
        assert (await reader.nearest(partition, unit(1, 0.2, 0)) or ("",))[0] == "north"
        if writer is not reader:
            await writer.close()
        await reader.close()

    asyncio.run(scenario())


def test_a_full_partition_drops_the_entry_closest_to_expiry() -> None:
    partition = Partition(dimension=2, max_entries=3)
    now = time.time()
    for name, expires in (("a", now + 30), ("b", now + 10), ("c", now + 20)):
        partition.add(name, unit(1, 0), expires)
    partition.add("d", unit(0, 1), now + 40)
    assert sorted(partition.ids) == ["a", "c", "d"]
    for name in ("a", "c"):
        partition.remove(name)
    assert partition.nearest(unit(1, 0), now) == ("d", pytest.approx(0.0, abs=1e-6))


def test_a_new_replica_reads_a_long_stream_in_pages() -> None:
    require_redis()
    partition = uuid.uuid4().hex
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((PAGE * 2 + 10, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    async def scenario() -> None:
        writer = RedisVectors(REDIS_URL, max_entries=10_000)
        for index, vector in enumerate(vectors):
            await writer.add(partition, str(index), vector, 60)
        reader = RedisVectors(REDIS_URL, max_entries=10_000)
        found = await reader.nearest(partition, vectors[PAGE * 2 + 5])
        assert found is not None and found[0] == str(PAGE * 2 + 5)
        assert len(reader.mirror.partitions[partition]) == len(vectors)
        await writer.close()
        await reader.close()

    asyncio.run(scenario())


def test_an_unreachable_redis_finds_nothing_and_fails_no_request() -> None:
    async def scenario() -> None:
        index = RedisVectors("redis://127.0.0.1:1/0")
        await index.add("p", "x", unit(1, 0), 60)
        assert await index.nearest("p", unit(1, 0)) is None
        await index.close()

    asyncio.run(scenario())
