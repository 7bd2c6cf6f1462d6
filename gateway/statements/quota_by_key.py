"""`quota-by-key`: call and bandwidth quotas for any counter key."""

from __future__ import annotations

from gateway.statements.common import COUNTER_KEY, INBOUND
from gateway.statements.quota import BANDWIDTH, CALLS, check
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("quota-by-key",),
    summary="Caps calls and/or kilobytes per renewal period for each counter-key value.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        CALLS,
        BANDWIDTH,
        AttributeSpec("renewal-period", Kind.INT, required=True, minimum=0, expression=False),
        COUNTER_KEY,
        AttributeSpec("increment-condition", Kind.BOOL),
        AttributeSpec("increment-count", Kind.INT, default="1", minimum=0),
        AttributeSpec("first-period-start", default="0001-01-01T00:00:00Z", expression=False),
    ),
    check=check,
    implemented=False,
)
