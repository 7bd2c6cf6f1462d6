"""`set-status`: set the status code and reason of the response."""

from __future__ import annotations

from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("set-status",),
    summary="Sets the response status code and reason phrase.",
    attributes=(
        POLICY_ID,
        AttributeSpec("code", Kind.INT, required=True, minimum=100, maximum=599),
        AttributeSpec("reason"),
    ),
    implemented=False,
)
