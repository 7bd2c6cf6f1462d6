"""The counter store gateway.yaml asks for: `stores.default` is `memory` or a redis:// URL."""

from __future__ import annotations

from gateway.config.model import GatewayConfig
from gateway.stores.counters import CounterStore
from gateway.stores.memory import MemoryCounters


def counter_store(config: GatewayConfig) -> CounterStore:
    setting = config.stores.get("default")
    url = setting.resolve().strip() if setting is not None else "memory"
    if url.startswith(("redis://", "rediss://", "unix://")):
        from gateway.stores.redis import RedisCounters

        return RedisCounters(url)
    return MemoryCounters()
