"""`include-fragment`: insert a policy fragment's statements here (resolved at load)."""

from __future__ import annotations

from gateway.statements.spec import AttributeSpec, StatementSpec

SPEC = StatementSpec(
    names=("include-fragment",),
    summary="Inserts the statements of fragments/<fragment-id> at this point.",
    attributes=(AttributeSpec("fragment-id", required=True, expression=False),),
    implemented=False,
)
