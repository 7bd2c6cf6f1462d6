"""`limit-concurrency`: bound how many requests run its children at once."""

from __future__ import annotations

from collections import defaultdict

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step

# Requests currently inside a limit-concurrency, per key value. Per gateway process, as in
# APIM (per gateway instance); the event loop is single-threaded, so a dict is enough.
_RUNNING: defaultdict[str, int] = defaultdict(int)


def compile_limit_concurrency(node: Node, context: CompileContext) -> Step:
    key = context.value(node.attr("key"), "")
    maximum = context.integer(node.attr("max-count"), 1)
    children = context.chain(node.children)
    policy_id = node.attr_text("id")

    async def limit_concurrency(request: RequestContext) -> LocalReply | None:
        name = to_text(key(request))
        if _RUNNING[name] >= maximum:
            raise PolicyError(
                "limit-concurrency",
                "ConcurrencyLimitExceeded",
                "Too many concurrent requests.",
                status=429,
                policy_id=policy_id,
            )
        _RUNNING[name] += 1
        try:
            return await children.run(request)
        finally:
            _RUNNING[name] -= 1
            if not _RUNNING[name]:
                del _RUNNING[name]

    return limit_concurrency


SPEC = StatementSpec(
    names=("limit-concurrency",),
    summary="Runs its children for at most max-count requests per key at once; 429 beyond.",
    attributes=(
        POLICY_ID,
        AttributeSpec("key", required=True),
        AttributeSpec("max-count", Kind.INT, required=True, minimum=1, expression=False),
    ),
    holds_statements=True,
    compile=compile_limit_concurrency,
)
