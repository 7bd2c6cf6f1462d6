"""`set-query-parameter`: add, replace, append to or delete a query parameter."""

from __future__ import annotations

from gateway.statements.common import EXISTS_ACTION, INBOUND_BACKEND, VALUE_CHILD
from gateway.statements.spec import POLICY_ID, AttributeSpec, StatementSpec

SPEC = StatementSpec(
    names=("set-query-parameter",),
    summary="Sets a query parameter of the backend request.",
    sections=INBOUND_BACKEND,
    attributes=(POLICY_ID, AttributeSpec("name", required=True), EXISTS_ACTION),
    children=(VALUE_CHILD,),
    implemented=False,
)
