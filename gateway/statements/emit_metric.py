"""`emit-metric`: add a value to a custom metric, with dimensions, when the statement runs."""

from __future__ import annotations

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.declarations import DIMENSION
from gateway.statements.support.dimensions import compile_dimensions


def compile_emit_metric(node: Node, context: CompileContext) -> Step:
    name = context.literal(node.attr("name")) or ""
    namespace = context.literal(node.attr("namespace"), "API Management") or "API Management"
    value_of = context.value(node.attr("value"), "1")
    dimensions_of = compile_dimensions(node, context)
    policy_id = node.attr_text("id")

    async def emit_metric(request: RequestContext) -> LocalReply | None:
        metrics = request.services.metrics
        if metrics is None:
            return None
        try:
            value = float(to_text(value_of(request)))
        except ValueError:
            raise PolicyError(
                "emit-metric",
                "ExpressionValueEvaluationFailure",
                f"emit-metric value must be a number, not '{to_text(value_of(request))}'",
                policy_id=policy_id,
            ) from None
        metrics.add(namespace, name, value, dimensions_of(request))
        return None

    return emit_metric


SPEC = StatementSpec(
    names=("emit-metric",),
    summary="Emits a custom metric (value default 1) with up to 10 dimensions.",
    attributes=(
        POLICY_ID,
        AttributeSpec("name", required=True, expression=False),
        AttributeSpec("value", Kind.NUMBER, default="1"),
        AttributeSpec("namespace", default="API Management", expression=False),
    ),
    children=(
        ChildSpec(
            DIMENSION.name,
            min_count=1,
            max_count=10,
            attributes=DIMENSION.attributes,
            doc=DIMENSION.doc,
        ),
    ),
    compile=compile_emit_metric,
)
