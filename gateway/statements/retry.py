"""`retry`: run its children again while a condition holds."""

from __future__ import annotations

from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("retry",),
    summary="Runs its children, then again up to `count` times while `condition` is true.",
    attributes=(
        POLICY_ID,
        AttributeSpec("condition", Kind.BOOL, required=True),
        AttributeSpec("count", Kind.INT, required=True, minimum=1, maximum=50),
        AttributeSpec("interval", Kind.INT, required=True, minimum=0),
        AttributeSpec("max-interval", Kind.INT, minimum=0),
        AttributeSpec("delta", Kind.INT, minimum=0),
        AttributeSpec("first-fast-retry", Kind.BOOL, default="false"),
    ),
    holds_statements=True,
    implemented=False,
)
