"""What `cache-lookup` leaves for `cache-store` in one request: where and how to keep the
response, and the header that says whether the cache replied."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.caching.store import CacheStore

HIT_HEADER = "x-aigw-cache"


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """What cache-lookup leaves for cache-store: where and how to keep this response."""

    key: str
    store: CacheStore
    downstream: str  # none, private, public
    must_revalidate: bool
