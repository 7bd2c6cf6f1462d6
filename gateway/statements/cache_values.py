"""`cache-lookup-value`, `cache-store-value`, `cache-remove-value`: policy values by key.

Values live in the cache `caching-type` picks (gateway.caching.caches) under their key, in a
namespace of their own, so a value never collides with a cached response. APIM documents the
store as asynchronous ("not immediately readable"); here it is written before the next
statement runs, which is a stronger promise.
"""

from __future__ import annotations

from gateway.caching.caches import LOCAL
from gateway.caching.store import CacheStore
from gateway.caching.values import decode, encode
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, Evaluator
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.limits import whole_number


def cache_of(request: RequestContext, caching_type: str | None) -> CacheStore:
    return (request.services.caches or LOCAL).pick(caching_type)


def _given(node: Node, name: str, context: CompileContext) -> Evaluator:
    """An attribute, or the text of the child element of that name (real files use both)."""
    child = node.child(name)
    return context.value(node.attr(name) if child is None else child.text, "")


def _key(evaluate: Evaluator, request: RequestContext) -> str:
    return "value:" + to_text(evaluate(request))


def compile_cache_lookup_value(node: Node, context: CompileContext) -> Step:
    key = _given(node, "key", context)
    variable = context.literal(node.attr("variable-name")) or ""
    default = context.value(node.attr("default-value")) if node.attr("default-value") else None
    caching_type = context.literal(node.attr("caching-type"))

    async def cache_lookup_value(request: RequestContext) -> LocalReply | None:
        found = await cache_of(request, caching_type).get(_key(key, request))
        if found is not None:
            request.variables[variable] = decode(found)
        elif default is not None:
            request.variables[variable] = default(request)
        return None

    return cache_lookup_value


def compile_cache_store_value(node: Node, context: CompileContext) -> Step:
    key, value = _given(node, "key", context), _given(node, "value", context)
    duration = context.value(node.attr("duration"), "0")
    caching_type = context.literal(node.attr("caching-type"))
    source, policy_id = node.tag, node.attr_text("id")

    async def cache_store_value(request: RequestContext) -> LocalReply | None:
        seconds = whole_number(duration(request), "duration", source, policy_id)
        store = cache_of(request, caching_type)
        await store.set(_key(key, request), encode(value(request)), seconds)
        return None

    return cache_store_value


def compile_cache_remove_value(node: Node, context: CompileContext) -> Step:
    key = context.value(node.attr("key"), "")
    caching_type = context.literal(node.attr("caching-type"))

    async def cache_remove_value(request: RequestContext) -> LocalReply | None:
        await cache_of(request, caching_type).delete(_key(key, request))
        return None

    return cache_remove_value
