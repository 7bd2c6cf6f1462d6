"""`cache-remove-value`: delete a cached value."""

from __future__ import annotations

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.cached_values import value_key
from gateway.statements.support.caching_type import cache_of
from gateway.statements.support.declarations import CACHING_TYPE


def compile_cache_remove_value(node: Node, context: CompileContext) -> Step:
    key = context.value(node.attr("key"), "")
    caching_type = context.literal(node.attr("caching-type"))

    async def cache_remove_value(request: RequestContext) -> LocalReply | None:
        await cache_of(request, caching_type).delete(value_key(key, request))
        return None

    return cache_remove_value


SPEC = StatementSpec(
    names=("cache-remove-value",),
    summary="Removes a value from the cache.",
    attributes=(POLICY_ID, AttributeSpec("key", required=True), CACHING_TYPE),
    compile=compile_cache_remove_value,
)
