"""`trace`: write a message to the request trace and telemetry."""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step


def check(node: Node, report: Report) -> None:
    if (node.text is None) == (node.child("message") is None):
        report.error(
            node.location,
            "missing-element" if node.text is None else "conflicting-attributes",
            "trace needs its message either in a <message> child or as its text, not both"
            if node.text is not None
            else "trace needs a <message> child",
        )


def compile_trace(node: Node, context: CompileContext) -> Step:
    source = context.literal(node.attr("source")) or ""
    severity = context.literal(node.attr("severity")) or "verbose"
    message_node = node.child("message")
    message = context.value(message_node.text if message_node is not None else node.text, "")
    metadata = [
        (context.value(m.attr("name"), ""), context.value(m.attr("value"), ""))
        for m in node.children_named("metadata")
    ]

    async def trace(request: RequestContext) -> LocalReply | None:
        fields = "".join(
            f" {to_text(name(request))}={to_text(value(request))}" for name, value in metadata
        )
        request.model.Trace(f"[{severity}] {source}: {to_text(message(request))}{fields}")
        return None

    return trace


SPEC = StatementSpec(
    names=("trace",),
    summary="Writes a message, with metadata, to the trace at a severity.",
    attributes=(
        POLICY_ID,
        AttributeSpec("source", required=True, expression=False),
        AttributeSpec(
            "severity",
            Kind.ENUM,
            default="verbose",
            choices=("verbose", "information", "error"),
            expression=False,
        ),
    ),
    children=(
        ChildSpec("message", max_count=1, text=TextSpec(required=True)),
        ChildSpec(
            "metadata",
            attributes=(
                AttributeSpec("name", required=True),
                AttributeSpec("value", required=True),
            ),
        ),
    ),
    text=TextSpec(doc="The message, in the older form without <message>."),
    check=check,
    compile=compile_trace,
)
