"""The Redis counter store under many concurrent operations, on a private redis-server (its
client list is the test's alone)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gateway.stores.counters import Change, Window
from gateway.stores.redis import RedisCounters
from gateway.stores.redis_urls import MAX_CONCURRENT
from tests.redis_servers import RedisServer, free_ports


def test_a_burst_of_operations_queues_for_a_capped_number_of_connections(tmp_path: Path) -> None:
    """200 requests checking a limit at once opened 200 connections (as many descriptors here,
    and client slots in Redis that every replica shares); beyond the cap they wait a turn."""
    (port,) = free_ports(1)
    server = RedisServer(port, tmp_path / "redis").start()
    watcher = server.client()

    async def burst() -> tuple[list[int], int]:
        counters = RedisCounters(f"redis://127.0.0.1:{port}/0")
        window, now = Window(60), time.time()
        try:
            checks = [
                counters.apply([Change(f"burst-{i}", 1, window, 10)], now) for i in range(200)
            ]
            await asyncio.gather(*checks)
            # The connections opened stay open (kept for the next operations): count them now.
            opened = int(watcher.info("clients")["connected_clients"]) - 1  # less the watcher
            peeks = [counters.peek(f"burst-{i}", window, now) for i in range(200)]
            return [count.value for count in await asyncio.gather(*peeks)], opened
        finally:
            await counters.close()

    try:
        values, opened = asyncio.run(burst())
    finally:
        server.stop()
    assert values == [1] * 200  # every operation ran, each once
    assert 1 <= opened <= MAX_CONCURRENT
