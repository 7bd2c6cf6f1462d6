"""Nearest-neighbour search over cached prompts' embeddings, one matrix per partition.

A partition holds unit vectors (float32 rows) with their entry ids and expiry times; a search
is one matrix-vector product (cosine similarity, as the vectors are unit length) that skips
expired rows. Brute force is exact and, at the partition sizes a cache holds (10,000 rows of
384 floats: ~0.4 ms), faster than keeping an approximate index up to date.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from gateway.caching.partitions import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_PARTITIONS

if TYPE_CHECKING:
    import numpy as np

_NEVER = float("-inf")  # the similarity of an expired row


class Partition:
    def __init__(self, dimension: int, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        # Imported where arrays are made (a new partition, a doubling), not at the top: every
        # gateway has a MemoryVectors, only one with a semantic cache makes partitions, and its
        # llm-semantic-cache-lookup loaded numpy at load, so this finds it in sys.modules.
        import numpy as np

        self.dimension = dimension
        self.max_entries = max_entries
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.matrix = np.zeros((16, dimension), dtype=np.float32)
        self.expires = np.zeros(16, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, entry_id: str, vector: np.ndarray, expires: float) -> None:
        if entry_id in self.rows:
            self.remove(entry_id)
        if len(self.ids) >= self.max_entries:  # full: the entry closest to expiry goes
            soonest = int(self.expires[: len(self.ids)].argmin())
            self.remove(self.ids[soonest])
        row = len(self.ids)
        if row == len(self.matrix):  # grow by doubling, so adding stays amortised O(1)
            import numpy as np

            self.matrix = np.concatenate([self.matrix, np.zeros_like(self.matrix)])
            self.expires = np.concatenate([self.expires, np.zeros_like(self.expires)])
        self.matrix[row] = vector
        self.expires[row] = expires
        self.ids.append(entry_id)
        self.rows[entry_id] = row

    def remove(self, entry_id: str) -> None:
        row = self.rows.pop(entry_id, None)
        if row is None:
            return
        last = len(self.ids) - 1
        if row != last:  # move the last row into the hole
            moved = self.ids[last]
            self.ids[row] = moved
            self.rows[moved] = row
            self.matrix[row] = self.matrix[last]
            self.expires[row] = self.expires[last]
        self.ids.pop()

    def nearest(self, vector: np.ndarray, now: float) -> tuple[str, float] | None:
        """The most similar live entry and its cosine similarity."""
        count = len(self.ids)
        if count == 0:
            return None
        similarities = self.matrix[:count] @ vector
        similarities[self.expires[:count] <= now] = _NEVER
        best = int(similarities.argmax())
        if similarities[best] == _NEVER:
            return None
        return self.ids[best], float(similarities[best])


class MemoryVectors:
    """Every partition in this process (the in-process cache's index)."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, max_partitions: int = DEFAULT_MAX_PARTITIONS
    ) -> None:
        self.max_entries = max_entries
        self.max_partitions = max_partitions
        self.partitions: OrderedDict[str, Partition] = OrderedDict()

    def partition(self, name: str, dimension: int) -> Partition:
        found = self.partitions.get(name)
        if found is None or found.dimension != dimension:
            found = Partition(dimension, self.max_entries)
            self.partitions[name] = found
            while len(self.partitions) > self.max_partitions:
                self.partitions.popitem(last=False)
        self.partitions.move_to_end(name)
        return found

    async def add(self, partition: str, entry_id: str, vector: np.ndarray, ttl: float) -> None:
        self.partition(partition, len(vector)).add(entry_id, vector, time.time() + ttl)

    async def nearest(self, partition: str, vector: np.ndarray) -> tuple[str, float] | None:
        return self.partition(partition, len(vector)).nearest(vector, time.time())

    async def remove(self, partition: str, entry_id: str) -> None:
        found = self.partitions.get(partition)
        if found is not None:
            found.remove(entry_id)

    async def close(self) -> None:
        self.partitions.clear()
