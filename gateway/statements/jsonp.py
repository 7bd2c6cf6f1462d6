"""`jsonp`: wrap JSON responses for JSONP callers."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.statements.support.declarations import OUTBOUND

SPEC = StatementSpec(
    names=("jsonp",),
    summary="Wraps the JSON response in the callback named by a query parameter.",
    sections=OUTBOUND,
    attributes=(POLICY_ID, AttributeSpec("callback-parameter-name", required=True)),
)
