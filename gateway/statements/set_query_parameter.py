"""`set-query-parameter`: add, replace, append to or delete a query parameter."""

from __future__ import annotations

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import EXISTS_ACTION, INBOUND_BACKEND, VALUE_CHILD
from gateway.statements.support.headers import header_writer


def compile_set_query_parameter(node: Node, context: CompileContext) -> Step:
    # Same actions as set-header (override, skip, append, delete), on the backend URL's query.
    write = header_writer(node, context, query=True)

    async def set_query_parameter(request: RequestContext) -> LocalReply | None:
        write(request, request.model.Request.Url.Query)
        return None

    return set_query_parameter


SPEC = StatementSpec(
    names=("set-query-parameter",),
    summary="Sets a query parameter of the backend request.",
    sections=INBOUND_BACKEND,
    attributes=(POLICY_ID, AttributeSpec("name", required=True), EXISTS_ACTION),
    children=(VALUE_CHILD,),
    compile=compile_set_query_parameter,
)
