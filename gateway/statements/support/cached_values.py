"""Policy values by key (`cache-lookup-value`, `cache-store-value`, `cache-remove-value`).

Values live in the cache `caching-type` picks (gateway.caching.caches) under their key, in a
namespace of their own, so a value never collides with a cached response.
"""

from __future__ import annotations

from gateway.expressions.values import to_text
from gateway.policy.compiling import Evaluator
from gateway.runtime.context import RequestContext


def value_key(evaluate: Evaluator, request: RequestContext) -> str:
    """The cache key of the value whose policy key `evaluate` gives."""
    return "value:" + to_text(evaluate(request))
