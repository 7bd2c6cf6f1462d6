"""`wait`: run its child statements side by side and wait for all of them, or the first.

Each immediate child (`send-request`, `cache-lookup-value`, `choose`) runs as its own task.
With `for="any"` the first child to finish ends the wait and the others are cancelled, so no
side call outlives the request. A child's local reply or error ends the wait the same way.
"""

from __future__ import annotations

import asyncio

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import NOT_ON_ERROR


def compile_wait(node: Node, context: CompileContext) -> Step:
    branches = [context.chain([child]) for child in node.children]
    first_only = context.literal(node.attr("for"), "all") == "any"
    until = asyncio.FIRST_COMPLETED if first_only else asyncio.FIRST_EXCEPTION

    async def wait(request: RequestContext) -> LocalReply | None:
        tasks = [asyncio.ensure_future(branch.run(request)) for branch in branches]
        if not tasks:
            return None
        try:
            done, _ = await asyncio.wait(tasks, return_when=until)
        finally:
            for task in tasks:
                task.cancel()
        # In the children's order: the first error or local reply wins.
        for task in tasks:
            if task in done and not task.cancelled():
                reply = task.result()  # raises the child's PolicyError
                if reply is not None:
                    return reply
        return None

    return wait


SPEC = StatementSpec(
    names=("wait",),
    summary="Runs send-request, cache-lookup-value and choose children in parallel.",
    sections=NOT_ON_ERROR,
    attributes=(
        POLICY_ID,
        AttributeSpec("for", Kind.ENUM, default="all", choices=("all", "any"), expression=False),
    ),
    holds_statements=True,
    compile=compile_wait,
)
