"""`check-header`: reject requests that lack a header or carry a value not listed."""

from __future__ import annotations

from gateway.common.literals import parse_bool
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.declarations import INBOUND, VALUE_CHILD


def compile_check_header(node: Node, context: CompileContext) -> Step:
    name = context.value(node.attr("name"), "")
    code = context.value(node.attr("failed-check-httpcode"), "401")
    message = context.value(node.attr("failed-check-error-message"), "")
    ignore_case = context.value(node.attr("ignore-case"), "false")
    allowed = [context.value(v.text, "") for v in node.children_named("value")]
    policy_id = node.attr_text("id")

    async def check_header(request: RequestContext) -> LocalReply | None:
        header = to_text(name(request))
        present = request.model.Request.Headers.get(header)

        def fail(reason: str) -> PolicyError:
            return PolicyError(
                "check-header",
                reason,
                to_text(message(request)),
                status=int(to_text(code(request))),
                policy_id=policy_id,
            )

        if present is None:
            raise fail("HeaderNotFound")
        if allowed:
            fold = parse_bool(to_text(ignore_case(request))) is True
            wanted = {to_text(v(request)).lower() if fold else to_text(v(request)) for v in allowed}
            given = [p.strip().lower() if fold else p.strip() for p in ",".join(present).split(",")]
            if not any(value in wanted for value in given):
                raise fail("HeaderValueNotAllowed")
        return None

    return check_header


SPEC = StatementSpec(
    names=("check-header",),
    summary="Enforces that a header is present and, given <value>s, has one of them.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("name", required=True),
        AttributeSpec("failed-check-httpcode", Kind.INT, required=True, minimum=100, maximum=599),
        AttributeSpec("failed-check-error-message", required=True),
        AttributeSpec("ignore-case", Kind.BOOL, required=True),
    ),
    children=(VALUE_CHILD,),
    compile=compile_check_header,
)
