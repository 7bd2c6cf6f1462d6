"""`llm-emit-token-metric` / `azure-openai-emit-token-metric`: token counters as metrics."""

from __future__ import annotations

from gateway.statements.common import DIMENSION, INBOUND
from gateway.statements.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec

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
    implemented=False,
)
