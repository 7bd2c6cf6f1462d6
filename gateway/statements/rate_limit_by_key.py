"""`rate-limit-by-key`: calls per period for any counter key."""

from __future__ import annotations

from gateway.statements.common import COUNTER_KEY, INBOUND, LIMIT_OUTPUTS
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("rate-limit-by-key",),
    summary="Limits calls per renewal period for each counter-key value; 429 beyond.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("calls", Kind.INT, required=True, minimum=1),
        AttributeSpec("renewal-period", Kind.INT, required=True, minimum=1, maximum=300),
        COUNTER_KEY,
        AttributeSpec("increment-condition", Kind.BOOL),
        AttributeSpec("increment-count", Kind.INT, default="1", minimum=0),
        *LIMIT_OUTPUTS,
    ),
    implemented=False,
)
