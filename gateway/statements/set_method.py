"""`set-method`: change the HTTP method of the backend request."""

from __future__ import annotations

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, Kind, Section, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step


def compile_set_method(node: Node, context: CompileContext) -> Step:
    method = context.value(node.text, "GET")

    async def set_method(request: RequestContext) -> LocalReply | None:
        request.model.Request.Method = to_text(method(request)).strip().upper()
        return None

    return set_method


SPEC = StatementSpec(
    names=("set-method",),
    summary="Sets the HTTP method of the request.",
    sections=frozenset({Section.INBOUND, Section.ON_ERROR}),
    attributes=(POLICY_ID,),
    text=TextSpec(Kind.HTTP_METHOD, required=True),
    compile=compile_set_method,
)
