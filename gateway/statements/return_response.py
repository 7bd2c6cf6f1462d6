"""`return-response`: stop the pipeline and respond to the client."""

from __future__ import annotations

from gateway.expressions.model import HeaderDictionary, ResponseModel
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, StatementSpec, as_child
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements import set_body, set_header, set_status
from gateway.statements.support.declarations import name_only
from gateway.statements.support.headers import header_writer


def compile_return_response(node: Node, context: CompileContext) -> Step:
    variable = context.literal(node.attr("response-variable-name"))
    status = node.child("set-status")
    write_status = set_status.status_writer(status, context) if status is not None else None
    write_headers = [header_writer(h, context) for h in node.children_named("set-header")]
    body = node.child("set-body")
    build_body = set_body.body_builder(body, context) if body is not None else None

    async def return_response(request: RequestContext) -> LocalReply:
        base = request.variables.get(variable) if variable else None
        response = ResponseModel(StatusCode=200, StatusReason="OK", Headers=HeaderDictionary())
        content = b""
        if isinstance(base, ResponseModel):  # a send-request response, changed by the children
            response.StatusCode, response.StatusReason = base.StatusCode, base.StatusReason
            response.Headers = HeaderDictionary(
                {k: base.Headers.get(k) or [] for k in base.Headers.Keys}
            )
            content = base.Body.read(preserve=True) if base.Body is not None else b""
        if write_status is not None:
            write_status(request, response)
        for write in write_headers:
            write(request, response.Headers)
        if build_body is not None:
            content = build_body(request)
        return LocalReply(
            response.StatusCode, response.StatusReason, response.Headers.lines(), content
        )

    return return_response


SPEC = StatementSpec(
    names=("return-response",),
    summary="Stops processing and returns the response built by its children.",
    attributes=(POLICY_ID, name_only("response-variable-name")),
    children=(
        as_child(set_status.SPEC, max_count=1),
        as_child(set_header.SPEC),
        as_child(set_body.SPEC, max_count=1),
    ),
    compile=compile_return_response,
)
