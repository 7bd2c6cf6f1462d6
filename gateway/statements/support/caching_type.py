"""The cache a statement's `caching-type` picks: the gateway's (gateway.caching.caches), or
this process's own when the request context has no gateway (tests, `aigw` tools)."""

from __future__ import annotations

from gateway.caching.caches import LOCAL
from gateway.caching.store import CacheStore
from gateway.runtime.context import RequestContext


def cache_of(request: RequestContext, caching_type: str | None) -> CacheStore:
    return (request.services.caches or LOCAL).pick(caching_type)
