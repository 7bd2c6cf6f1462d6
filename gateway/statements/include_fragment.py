"""`include-fragment`: insert a policy fragment's statements here (resolved at load)."""

from __future__ import annotations

from gateway.policy.compiling import UNRESOLVED_REFERENCE, CompileContext, CompileFailure
from gateway.policy.spec import AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.step import Step


def compile_include_fragment(node: Node, context: CompileContext) -> Step:
    # Scope merging replaced every include of a known fragment by its statements; one that is
    # still here names a missing fragment, which the reference checks already reported.
    raise CompileFailure(node.location, UNRESOLVED_REFERENCE, "fragment not found")


SPEC = StatementSpec(
    names=("include-fragment",),
    summary="Inserts the statements of fragments/<fragment-id> at this point.",
    attributes=(AttributeSpec("fragment-id", required=True, expression=False),),
    compile=compile_include_fragment,
)
