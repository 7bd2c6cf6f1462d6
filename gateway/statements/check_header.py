"""`check-header`: reject requests that lack a header or carry a value not listed."""

from __future__ import annotations

from gateway.statements.common import INBOUND, VALUE_CHILD
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("check-header",),
    summary="Enforces that a header is present and, given <value>s, has one of them.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("name", required=True),
        AttributeSpec("failed-check-httpcode", Kind.INT, required=True, minimum=100, maximum=599),
        AttributeSpec("failed-check-error-message", required=True),
        AttributeSpec("ignore-case", Kind.BOOL, required=True),
    ),
    children=(VALUE_CHILD,),
    implemented=False,
)
