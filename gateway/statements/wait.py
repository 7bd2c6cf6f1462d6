"""`wait`: run its child statements in parallel and wait for all or any."""

from __future__ import annotations

from gateway.statements.common import NOT_ON_ERROR
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("wait",),
    summary="Runs send-request, cache-lookup-value and choose children in parallel.",
    sections=NOT_ON_ERROR,
    attributes=(
        POLICY_ID,
        AttributeSpec("for", Kind.ENUM, default="all", choices=("all", "any"), expression=False),
    ),
    holds_statements=True,
    implemented=False,
)
