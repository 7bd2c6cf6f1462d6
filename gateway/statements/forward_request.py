"""`forward-request`: call the backend."""

from __future__ import annotations

from contextlib import suppress

from gateway.common.diagnostics import Report
from gateway.common.literals import parse_bool
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, Multiplicity, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.forwarding import ForwardOptions
from gateway.runtime.phases import run_phase
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.declarations import BACKEND


def check(node: Node, report: Report) -> None:
    if "timeout" in node.attributes and "timeout-ms" in node.attributes:
        report.error(
            node.attributes["timeout-ms"].location,
            "conflicting-attributes",
            "forward-request takes 'timeout' (seconds) or 'timeout-ms', not both; remove one",
        )


def compile_forward_request(node: Node, context: CompileContext) -> Step:
    seconds = context.value(node.attr("timeout"), "300")
    milliseconds = context.value(node.attr("timeout-ms"), None)

    def flag(name: str, default: bool) -> bool:
        value = parse_bool(context.literal(node.attr(name)) or "")
        return default if value is None else value

    follow = flag("follow-redirects", False)
    buffer_response = flag("buffer-response", True)
    buffer_request = flag("buffer-request-body", False)
    fail_on_error = flag("fail-on-error-status-code", False)
    policy_id = node.attr_text("id")

    def options(ms: object, s: object) -> ForwardOptions:
        timeout = float(to_text(ms)) / 1000 if ms is not None else float(to_text(s))
        return ForwardOptions(timeout, follow, buffer_response, fail_on_error)

    # Timeouts written as numbers (the usual case) give every call the same options: made
    # once here rather than on each call. An expression, or a literal that is no number
    # (whose error each call raises, as before), is read on each call.
    fixed: ForwardOptions | None = None
    given = (node.attr("timeout-ms"), node.attr("timeout"))
    if not any(value is not None and value.is_expression for value in given):
        with suppress(ValueError):
            fixed = options(context.literal(given[0]), context.literal(given[1], "300"))

    async def forward_request(request: RequestContext) -> LocalReply | None:
        if request.forward is None:
            raise PolicyError(
                "forward-request",
                "BackendConnectionFailure",
                "no transport to reach backends",
                policy_id=policy_id,
            )
        chosen = fixed or options(milliseconds(request), seconds(request))
        if buffer_request and request.request_stream is not None:  # else nothing to hold
            await request.hold_request_body()
        await request.forward(request, chosen)  # the response arrives with its usage accounted
        if Phase.RESPONSE in request.deferred:
            await run_phase(request, Phase.RESPONSE)
        status = request.model.Response.StatusCode
        if fail_on_error and status >= 400:
            raise PolicyError(
                "forward-request",
                "BackendError",
                f"The backend answered {status}.",
                status=status,
                policy_id=policy_id,
            )
        return None

    return forward_request


SPEC = StatementSpec(
    names=("forward-request",),
    summary="Sends the request to the backend and waits for the response headers.",
    sections=BACKEND,
    multiplicity=Multiplicity.ONCE_PER_DOCUMENT,
    attributes=(
        POLICY_ID,
        AttributeSpec("timeout", Kind.INT, default="300", minimum=0),
        AttributeSpec("timeout-ms", Kind.INT, minimum=0),
        AttributeSpec("continue-timeout", Kind.INT, minimum=0),
        AttributeSpec(
            "http-version", Kind.ENUM, default="1", choices=("1", "2", "2or1"), expression=False
        ),
        AttributeSpec("follow-redirects", Kind.BOOL, default="false"),
        AttributeSpec("buffer-request-body", Kind.BOOL, default="false", expression=False),
        AttributeSpec("buffer-response", Kind.BOOL, default="true", expression=False),
        AttributeSpec("fail-on-error-status-code", Kind.BOOL, default="false", expression=False),
    ),
    check=check,
    compile=compile_forward_request,
)
