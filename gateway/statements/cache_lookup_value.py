"""`cache-lookup-value`: read a cached value into a variable."""

from __future__ import annotations

from gateway.caching.value_codec import decode
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.cached_values import value_key
from gateway.statements.support.caching_type import cache_of
from gateway.statements.support.declarations import (
    CACHING_TYPE,
    attribute_or_child,
    attribute_or_child_value,
)

KEY_CHILD, check = attribute_or_child("key")


def compile_cache_lookup_value(node: Node, context: CompileContext) -> Step:
    key = attribute_or_child_value(node, "key", context)
    variable = context.literal(node.attr("variable-name")) or ""
    default = context.value(node.attr("default-value")) if node.attr("default-value") else None
    caching_type = context.literal(node.attr("caching-type"))

    async def cache_lookup_value(request: RequestContext) -> LocalReply | None:
        found = await cache_of(request, caching_type).get(value_key(key, request))
        if found is not None:
            request.variables[variable] = decode(found)
        elif default is not None:
            request.variables[variable] = default(request)
        return None

    return cache_lookup_value


SPEC = StatementSpec(
    names=("cache-lookup-value",),
    summary="Reads a value from the cache into a variable (default-value on a miss).",
    attributes=(
        POLICY_ID,
        AttributeSpec("key"),
        AttributeSpec("variable-name", required=True, expression=False),
        AttributeSpec("default-value"),
        CACHING_TYPE,
    ),
    children=KEY_CHILD,
    check=check,
    compile=compile_cache_lookup_value,
)
