"""The store contract runs on four stores: in-process, Redis, Redis Cluster, Redis Sentinel."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.stores.counters import CounterStore
from gateway.stores.memory import MemoryCounters
from gateway.stores.redis import RedisCounters
from tests.conftest import redis_url_for


@pytest.fixture(params=["memory", "redis", "redis-cluster", "redis-sentinel"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], CounterStore]:
    """A factory: each call is another client of the same store (another replica for Redis)."""
    if request.param == "memory":
        shared = MemoryCounters()
        return lambda: shared
    url = redis_url_for(request)
    return lambda: RedisCounters(url)  # tests close the clients they make
