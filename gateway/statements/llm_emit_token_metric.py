"""`llm-emit-token-metric` / `azure-openai-emit-token-metric`: token counters as metrics.

Dimensions are evaluated when the statement runs (inbound); the counts are the provider's
usage, added once the response is complete (a stream's, after its last chunk): Prompt Tokens,
Completion Tokens, Total Tokens, and Prompt Cached Tokens when the provider reports any.
"""

from __future__ import annotations

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import response_usage
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import DIMENSION, INBOUND
from gateway.statements.support.dimensions import compile_dimensions


def compile_emit_token_metric(node: Node, context: CompileContext) -> Step:
    namespace = context.literal(node.attr("namespace"), "API Management") or "API Management"
    dimensions_of = compile_dimensions(node, context)

    async def emit_token_metric(request: RequestContext) -> LocalReply | None:
        metrics = request.services.metrics
        if metrics is None:
            return None
        dimensions = dimensions_of(request)

        def emit(done: RequestContext) -> None:  # awaits nothing: no coroutine to make
            usage = response_usage(done)
            if usage is None:
                return
            metrics.add(namespace, "Prompt Tokens", usage.prompt, dimensions)
            metrics.add(namespace, "Completion Tokens", usage.completion, dimensions)
            metrics.add(namespace, "Total Tokens", usage.total, dimensions)
            if usage.cached_prompt:
                metrics.add(namespace, "Prompt Cached Tokens", usage.cached_prompt, dimensions)

        request.defer(Phase.DONE, emit)
        return None

    return emit_token_metric


SPEC = StatementSpec(
    names=("llm-emit-token-metric", "azure-openai-emit-token-metric"),
    summary="Emits Prompt, Completion and Total Tokens metrics with dimensions.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("namespace", default="API Management", expression=False),
        AttributeSpec("value", Kind.NUMBER, default="1"),
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
    compile=compile_emit_token_metric,
)
