"""`emit-metric`: emit a custom metric with dimensions."""

from __future__ import annotations

from gateway.statements.common import DIMENSION
from gateway.statements.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec

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
    implemented=False,
)
