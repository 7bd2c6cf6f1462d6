"""`find-and-replace`: replace a literal string in the body."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec

SPEC = StatementSpec(
    names=("find-and-replace",),
    summary="Replaces every occurrence of `from` with `to` in the body.",
    attributes=(
        POLICY_ID,
        AttributeSpec("from", required=True),
        AttributeSpec("to", required=True),
    ),
)
