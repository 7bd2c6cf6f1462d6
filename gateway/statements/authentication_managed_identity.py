"""`authentication-managed-identity`: get an Entra token for a resource and send it."""

from __future__ import annotations

from gateway.statements.common import INBOUND, name_only
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("authentication-managed-identity",),
    summary="Gets a token for `resource` and sets Authorization (or a variable) with it.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("resource", required=True),
        AttributeSpec("client-id"),
        name_only("output-token-variable-name"),
        AttributeSpec("ignore-error", Kind.BOOL, default="false"),
    ),
    implemented=False,
)
