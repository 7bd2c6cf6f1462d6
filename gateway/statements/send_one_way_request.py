"""`send-one-way-request`: fire-and-forget call to another service."""

from __future__ import annotations

from gateway.statements.send_request import MODE, REQUEST_CHILDREN
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("send-one-way-request",),
    summary="Sends a request without waiting for its response.",
    attributes=(POLICY_ID, MODE, AttributeSpec("timeout", Kind.INT, default="60", minimum=1)),
    children=REQUEST_CHILDREN,
    implemented=False,
)
