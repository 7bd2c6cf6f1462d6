"""`cache-store-value`: store a value in the cache under a key.

APIM documents the store as asynchronous ("not immediately readable"); here it is written
before the next statement runs, which is a stronger promise.
"""

from __future__ import annotations

from gateway.caching.value_codec import encode
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.cached_values import value_key
from gateway.statements.support.caching_type import cache_of
from gateway.statements.support.declarations import (
    CACHING_TYPE,
    DURATION_SECONDS,
    attribute_or_child,
    attribute_or_child_value,
)
from gateway.statements.support.numeric import whole_number

VALUE_CHILDREN, check = attribute_or_child("key", "value")


def compile_cache_store_value(node: Node, context: CompileContext) -> Step:
    key = attribute_or_child_value(node, "key", context)
    value = attribute_or_child_value(node, "value", context)
    duration = context.value(node.attr("duration"), "0")
    caching_type = context.literal(node.attr("caching-type"))
    source, policy_id = node.tag, node.attr_text("id")

    async def cache_store_value(request: RequestContext) -> LocalReply | None:
        seconds = whole_number(duration(request), "duration", source, policy_id)
        store = cache_of(request, caching_type)
        await store.set(value_key(key, request), encode(value(request)), seconds)
        return None

    return cache_store_value


SPEC = StatementSpec(
    names=("cache-store-value",),
    summary="Stores a value in the cache for `duration` seconds.",
    attributes=(
        POLICY_ID,
        AttributeSpec("key"),
        AttributeSpec("value"),
        DURATION_SECONDS,
        CACHING_TYPE,
    ),
    children=VALUE_CHILDREN,
    check=check,
    compile=compile_cache_store_value,
)
