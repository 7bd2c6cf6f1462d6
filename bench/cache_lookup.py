"""Semantic-cache lookup latency with 1,000 / 10,000 / 100,000 entries in one partition.

    python bench/cache_lookup.py [--redis redis://127.0.0.1:6379/0] [--lookups 300]

What one lookup costs the gateway after the prompt is embedded (remote embedding calls are
excluded, as they depend on the provider): the exact-tier read, the nearest-neighbour search
(for Redis: the catch-up read of the partition's stream, then the local search), the read of
the entry, and the near-miss guard. Vectors are random 384-d unit vectors (MiniLM's size);
each query is a stored vector with a little noise, so every lookup is a hit.

Also measures the shipped embedder (MiniLM) on a short and a long prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid

import numpy as np

from gateway.caching.guard import conflict
from gateway.caching.memory import MemoryCache
from gateway.caching.redis_cache import RedisCache
from gateway.caching.redis_vectors import RedisVectors
from gateway.caching.vectors import MemoryVectors

DIMENSION = 384
SIZES = (1_000, 10_000, 100_000)
PROMPT = "How do I reset the password of my account on the mobile app?"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


async def fill(store, vectors, partition: str, size: int, redis_url: str | None) -> np.ndarray:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((size, DIMENSION)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    entry = json.dumps({"prompt": PROMPT, "answer": {"choices": []}}).encode()
    if redis_url is None:
        for index in range(size):
            await store.set(f"semantic:{partition}:e:{index}", entry, 3600)
            await vectors.add(partition, str(index), matrix[index], 3600)
        return matrix
    import redis.asyncio as aioredis  # bulk load through pipelines, not one call per entry

    client = aioredis.Redis.from_url(redis_url)
    expires = repr(time.time() + 3600)
    for start in range(0, size, 2_000):
        pipe = client.pipeline(transaction=False)
        for index in range(start, min(start + 2_000, size)):
            pipe.set(f"aigw:cache:{{semantic:{partition}:e:{index}}}", entry, ex=3600)
            fields = {"id": str(index), "v": matrix[index].tobytes(), "x": expires}
            pipe.xadd(f"aigw:sc:{{{partition}}}:log", fields)
        await pipe.execute()
    await client.expire(f"aigw:sc:{{{partition}}}:log", 3600)
    await client.aclose()
    return matrix


async def measure(size: int, lookups: int, redis_url: str | None) -> tuple[float, float]:
    partition = uuid.uuid4().hex
    if redis_url is None:
        store, vectors = MemoryCache(1 << 34), MemoryVectors(max_entries=size)
    else:
        store, vectors = RedisCache(redis_url), RedisVectors(redis_url, max_entries=size)
    matrix = await fill(store, vectors, partition, size, redis_url)
    await vectors.nearest(partition, matrix[0])  # a replica's first read of the stream
    rng = np.random.default_rng(11)
    samples = []
    for _ in range(lookups):
        query = (
            matrix[rng.integers(size)] + rng.standard_normal(DIMENSION).astype(np.float32) * 0.01
        )
        query /= np.linalg.norm(query)
        started = time.perf_counter()
        await store.get(f"semantic:{partition}:x:miss")  # the exact tier misses
        found = await vectors.nearest(partition, query)
        assert found is not None
        entry = await store.get(f"semantic:{partition}:e:{found[0]}")
        assert entry is not None
        conflict(json.loads(entry)["prompt"], PROMPT)
        samples.append((time.perf_counter() - started) * 1000)
    await store.close()
    await vectors.close()
    return percentiles(samples)


def embedder_latency(runs: int = 50) -> dict[str, tuple[float, float]]:
    from gateway.embeddings.minilm import MiniLM

    model = MiniLM.load()
    long_prompt = " ".join([PROMPT] * 40)  # ~500 tokens; the embedder keeps the last 254
    found = {}
    for name, text in (("short (~15 tokens)", PROMPT), ("long (~500 tokens)", long_prompt)):
        model.embed(text)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            model.embed(text)
            samples.append((time.perf_counter() - started) * 1000)
        found[name] = percentiles(samples)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    print(
        "| entries in the partition | memory p50 ms | memory p99 ms | Redis p50 ms | Redis p99 ms |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size in SIZES:
        memory = asyncio.run(measure(size, args.lookups, None))
        shared = asyncio.run(measure(size, args.lookups, args.redis))
        print(
            f"| {size:,} | {memory[0]:.3f} | {memory[1]:.3f} | {shared[0]:.3f} | {shared[1]:.3f} |"
        )
    print()
    print("| embedder (MiniLM int8, one thread) | p50 ms | p99 ms |")
    print("| --- | ---: | ---: |")
    for name, (p50, p99) in embedder_latency().items():
        print(f"| {name} | {p50:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
