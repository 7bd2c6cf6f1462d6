"""The counter store gateway.yaml asks for: `stores.default` is `memory` or a Redis URL."""

from __future__ import annotations

from gateway.config.model import GatewayConfig
from gateway.stores.counters import CounterStore
from gateway.stores.memory import MemoryCounters
from gateway.stores.redis_urls import is_redis_url


def counter_store(config: GatewayConfig) -> CounterStore:
    setting = config.stores.get("default")
    url = setting.resolve().strip() if setting is not None else "memory"
    if is_redis_url(url):
        from gateway.stores.redis import RedisCounters

        return RedisCounters(url)
    return MemoryCounters()
