"""`mock-response`: respond with the operation's example instead of calling the backend."""

from __future__ import annotations

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, Section, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.replies import reason_phrase
from gateway.runtime.step import LocalReply, Step


def compile_mock_response(node: Node, context: CompileContext) -> Step:
    status = context.integer(node.attr("status-code"), 200)
    content_type = context.literal(node.attr("content-type"))
    reason = reason_phrase(status)

    async def mock_response(request: RequestContext) -> LocalReply:
        # APIM responds with the operation's example for that status (and content type); with
        # none, with the status and an empty body.
        samples, model = request.services.samples, request.model
        found = (
            samples.example(model.Api.Id, model.Operation.Id, status, content_type)
            if samples is not None
            else None
        )
        if found is None:
            return LocalReply(status, reason)
        return LocalReply(status, reason, [("Content-Type", found[0])], found[1])

    return mock_response


SPEC = StatementSpec(
    names=("mock-response",),
    summary="Returns a sample response from the operation's definition; aborts the pipeline.",
    sections=frozenset({Section.INBOUND, Section.OUTBOUND, Section.ON_ERROR}),
    attributes=(
        POLICY_ID,
        AttributeSpec(
            "status-code", Kind.INT, default="200", minimum=100, maximum=599, expression=False
        ),
        AttributeSpec("content-type", expression=False),
    ),
    compile=compile_mock_response,
)
