"""The store contract runs on four stores: in-process, Redis, Redis Cluster, Redis Sentinel."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.stores.counters import CounterStore
from gateway.stores.memory import MemoryCounters
from gateway.stores.redis import RedisCounters
from tests.conftest import REDIS_URL, require_redis


@pytest.fixture(params=["memory", "redis", "redis-cluster", "redis-sentinel"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], CounterStore]:
    """A factory: each call is another client of the same store (another replica for Redis)."""
    if request.param == "memory":
        shared = MemoryCounters()
        return lambda: shared
    if request.param == "redis":
        require_redis()
        url = REDIS_URL
    else:
        url = request.getfixturevalue(request.param.replace("-", "_") + "_url")
    return lambda: RedisCounters(url)  # tests close the clients they make
