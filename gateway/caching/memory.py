"""The in-process cache: bounded by bytes, entries expire, the least recently used go first."""

from __future__ import annotations

import time
from collections import OrderedDict

DEFAULT_MAX_BYTES = 128 * 1024 * 1024
ENTRY_OVERHEAD = 100  # bytes counted per entry beyond its key and value (dict, tuple, floats)


class MemoryCache:
    name = "memory"

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if key in self._entries:
            self._drop(key)
        size = _size(key, value)
        if ttl <= 0 or size > self.max_bytes:
            return
        while self.used + size > self.max_bytes:  # evict the least recently used
            self._drop(next(iter(self._entries)))
        self._entries[key] = (time.monotonic() + ttl, value)
        self.used += size

    async def delete(self, key: str) -> None:
        if key in self._entries:
            self._drop(key)

    async def close(self) -> None:
        self._entries.clear()
        self.used = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self.used -= _size(key, value)


def _size(key: str, value: bytes) -> int:
    return len(key) + len(value) + ENTRY_OVERHEAD
