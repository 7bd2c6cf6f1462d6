"""What `llm-semantic-cache-lookup` leaves for `llm-semantic-cache-store` in one request:
where the completion is to be kept, under the exact key and the vector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.caching.store import CacheStore, VectorIndex

if TYPE_CHECKING:  # numpy (11 MB) is loaded only by a gateway with a semantic cache
    import numpy as np


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
