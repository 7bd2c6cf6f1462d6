"""`set-header`: add, replace, append to or delete a request or response header."""

from __future__ import annotations

from gateway.statements.common import EXISTS_ACTION, VALUE_CHILD
from gateway.statements.spec import POLICY_ID, AttributeSpec, StatementSpec

SPEC = StatementSpec(
    names=("set-header",),
    summary="Sets a header of the request (inbound) or the response (outbound).",
    attributes=(POLICY_ID, AttributeSpec("name", required=True), EXISTS_ACTION),
    children=(VALUE_CHILD,),
    implemented=False,
)
