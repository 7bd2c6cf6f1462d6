"""`mock-response`: answer with a sample instead of calling the backend."""

from __future__ import annotations

from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, Section, StatementSpec

SPEC = StatementSpec(
    names=("mock-response",),
    summary="Returns a sample response from the operation's definition; aborts the pipeline.",
    sections=frozenset({Section.INBOUND, Section.OUTBOUND, Section.ON_ERROR}),
    attributes=(
        POLICY_ID,
        AttributeSpec("status-code", Kind.INT, default="200", minimum=100, maximum=599),
        AttributeSpec("content-type"),
    ),
    implemented=False,
)
