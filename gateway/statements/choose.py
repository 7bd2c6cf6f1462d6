"""`choose`: run the first `<when>` whose condition holds, else `<otherwise>`."""

from __future__ import annotations

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step


def compile_choose(node: Node, context: CompileContext) -> Step:
    branches = [
        (context.condition(when.attr("condition")), context.chain(when.children))
        for when in node.children_named("when")
    ]
    otherwise = node.child("otherwise")
    # No <otherwise> (the usual), or an empty one: nothing to run, not even an empty chain.
    fallback = context.chain(otherwise.children) if otherwise is not None else None
    if fallback is not None and not fallback:
        fallback = None

    async def choose(request: RequestContext) -> LocalReply | None:
        for condition, chain in branches:
            if condition(request):
                return await chain.run(request)
        return await fallback.run(request) if fallback is not None else None

    return choose


SPEC = StatementSpec(
    names=("choose",),
    summary="Runs the statements of the first <when> whose condition is true, else <otherwise>.",
    attributes=(POLICY_ID,),
    children=(
        ChildSpec(
            "when",
            min_count=1,
            attributes=(AttributeSpec("condition", Kind.BOOL, required=True),),
            holds_statements=True,
        ),
        ChildSpec("otherwise", max_count=1, holds_statements=True),
    ),
    compile=compile_choose,
)
