"""`rewrite-uri`: rewrite the backend path and query from a template."""

from __future__ import annotations

from gateway.statements.common import INBOUND
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("rewrite-uri",),
    summary="Rewrites the backend URL's path and query; {param} takes URL-template values.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("template", required=True),
        AttributeSpec("copy-unmatched-params", Kind.BOOL, default="true", expression=False),
    ),
    implemented=False,
)
