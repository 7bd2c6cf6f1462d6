"""What `llm-semantic-cache-lookup` leaves for `llm-semantic-cache-store` in one request:
where the completion is to be kept, under the exact key and the vector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gateway.caching.store import CacheStore, VectorIndex


@dataclass(frozen=True, slots=True)
class SemanticPlan:
    """What the lookup leaves for the store: where this request's completion is to be kept."""

    partition: str
    exact_key: str
    text: str
    vector: np.ndarray | None
    style: str
    store: CacheStore
    vectors: VectorIndex
