"""`limit-concurrency`: bound how many requests run its children at once."""

from __future__ import annotations

from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("limit-concurrency",),
    summary="Runs its children for at most max-count requests per key at once; 429 beyond.",
    attributes=(
        POLICY_ID,
        AttributeSpec("key", required=True),
        AttributeSpec("max-count", Kind.INT, required=True, minimum=1, expression=False),
    ),
    holds_statements=True,
    implemented=False,
)
