"""Shared test fixtures: the APIM corpus, a policies-directory builder, both counter stores."""

from __future__ import annotations

import os
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.caching.memory import MemoryCache
from gateway.caching.redis_cache import RedisCache
from gateway.caching.store import CacheStore
from gateway.stores.counters import CounterStore
from gateway.stores.memory import MemoryCounters
from gateway.stores.redis import RedisCounters
from tests.redis_servers import cluster, sentinel

# litellm fetches its price map from the internet when imported, unless told not to: tests
# stay offline (set before any test module imports it).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REPO = Path(__file__).resolve().parent.parent
# 199 public APIM policy documents, copied with their sources and licence (tests/data/README.md).
CORPUS = REPO / "tests" / "data" / "apim-corpus"


def corpus_files() -> list[Path]:
    return sorted(CORPUS.rglob("*.xml"))


@pytest.fixture
def make_dir(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write `{relative path: text}` (dedented) under a fresh directory and return it."""

    def make(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return tmp_path

    return make


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def require_redis() -> None:
    if redis_reachable():
        return
    message = f"Redis is not reachable at {REDIS_URL}: the Redis store tests cannot run"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a Redis server is required)")
    print(f"\n*** SKIPPING: {message} ***", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], CounterStore]:
    """A factory: each call is another client of the same store (another replica for Redis)."""
    if request.param == "redis":
        require_redis()
        return lambda: RedisCounters(REDIS_URL)  # tests close the clients they make
    shared = MemoryCounters()
    return lambda: shared


@pytest.fixture
def key() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with cluster(tmp_path_factory.mktemp("cluster")) as members:
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{m.port}" for m in members)


@pytest.fixture(scope="session")
def redis_sentinel_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sentinel(tmp_path_factory.mktemp("sentinel")) as found:
        yield found.url


def redis_url_for(request: pytest.FixtureRequest) -> str:
    """The URL of a parametrised store fixture's Redis: `redis`, `redis-cluster`, ..."""
    if request.param == "redis":
        require_redis()
        return REDIS_URL
    return str(request.getfixturevalue(request.param.replace("-", "_") + "_url"))


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
def make_cache(request: pytest.FixtureRequest) -> Callable[[], CacheStore]:
    """A factory of cache clients; for Redis each call is another replica's client."""
    if request.param == "memory":
        shared = MemoryCache()
        return lambda: shared
    url = redis_url_for(request)
    return lambda: RedisCache(url)


def clear_of_window_edge(period: float = 60.0, margin: float = 8.0) -> None:
    """Wait, if need be, until the current fixed window (of `period` seconds, aligned to the
    epoch as the limits' windows are) has at least `margin` seconds left, so that a test
    counting within one window does not straddle two."""
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.05)
