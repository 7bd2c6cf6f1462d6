"""`set-status`: set the status code and reason of the response."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions.model import ResponseModel
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step

StatusWriter = Callable[[RequestContext, ResponseModel], None]
# The statuses HTTP/1.1 can send (RFC 9110 15): the server fails on any other as it writes
# the response, so the client got no answer at all, while the access log said it was sent.
STATUSES = range(100, 600)


def status_writer(node: Node, context: CompileContext) -> StatusWriter:
    code = context.value(node.attr("code"), "200")
    reason = context.value(node.attr("reason"), None)
    policy_id = context.policy_id

    def write(request: RequestContext, response: ResponseModel) -> None:
        try:
            status = int(to_text(code(request)))
        except ValueError:
            status = 0
        if status not in STATUSES:  # a literal one was checked at load (code's range)
            raise PolicyError(
                "set-status",
                "ExpressionValueEvaluationFailure",
                "The status code is not a number from 100 to 599.",
                policy_id=policy_id,
            )
        response.StatusCode = status
        phrase = reason(request)
        response.StatusReason = to_text(phrase) if phrase is not None else ""

    return write


def compile_set_status(node: Node, context: CompileContext) -> Step:
    write = status_writer(node, context)

    async def set_status(request: RequestContext) -> LocalReply | None:
        write(request, request.model.Response)
        return None

    return set_status


SPEC = StatementSpec(
    names=("set-status",),
    summary="Sets the response status code and reason phrase.",
    attributes=(
        POLICY_ID,
        AttributeSpec("code", Kind.INT, required=True, minimum=100, maximum=599),
        AttributeSpec("reason"),
    ),
    compile=compile_set_status,
)
