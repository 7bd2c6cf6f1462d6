"""`set-header`: add, replace, append to or delete a request or response header."""

from __future__ import annotations

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import EXISTS_ACTION, VALUE_CHILD
from gateway.statements.support.headers import header_writer
from gateway.statements.support.messages import RESPONSE_SECTIONS


def compile_set_header(node: Node, context: CompileContext) -> Step:
    write = header_writer(node, context)
    response = context.section in RESPONSE_SECTIONS  # `message_of`, decided once

    async def set_header(request: RequestContext) -> LocalReply | None:
        model = request.model
        write(request, (model.Response if response else model.Request).Headers)
        return None

    return set_header


SPEC = StatementSpec(
    names=("set-header",),
    summary="Sets a header of the request (inbound) or the response (outbound).",
    attributes=(POLICY_ID, AttributeSpec("name", required=True), EXISTS_ACTION),
    children=(VALUE_CHILD,),
    compile=compile_set_header,
)
