"""`choose`: run the first `<when>` whose condition holds, else `<otherwise>`."""

from __future__ import annotations

from gateway.statements.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec

SPEC = StatementSpec(
    names=("choose",),
    summary="Runs the statements of the first <when> whose condition is true, else <otherwise>.",
    attributes=(POLICY_ID,),
    children=(
        ChildSpec(
            "when",
            min_count=1,
            attributes=(AttributeSpec("condition", Kind.BOOL, required=True),),
            holds_statements=True,
        ),
        ChildSpec("otherwise", max_count=1, holds_statements=True),
    ),
    implemented=False,
)
