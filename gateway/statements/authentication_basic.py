"""`authentication-basic`: send HTTP Basic credentials to the backend."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.statements.support.declarations import INBOUND

SPEC = StatementSpec(
    names=("authentication-basic",),
    summary="Authenticates to the backend with HTTP Basic credentials.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("username", required=True),
        AttributeSpec("password", required=True),
    ),
)
