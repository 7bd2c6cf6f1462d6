"""`trace`: write a message to the request trace and telemetry."""

from __future__ import annotations

from gateway.statements.common import NOT_ON_ERROR
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    StatementSpec,
    TextSpec,
)

SPEC = StatementSpec(
    names=("trace",),
    summary="Writes a message, with metadata, to the trace at a severity.",
    sections=NOT_ON_ERROR,
    attributes=(
        POLICY_ID,
        AttributeSpec("source", required=True, expression=False),
        AttributeSpec(
            "severity",
            Kind.ENUM,
            default="verbose",
            choices=("verbose", "information", "error"),
            expression=False,
        ),
    ),
    children=(
        ChildSpec("message", min_count=1, max_count=1, text=TextSpec(required=True)),
        ChildSpec(
            "metadata",
            attributes=(
                AttributeSpec("name", required=True),
                AttributeSpec("value", required=True),
            ),
        ),
    ),
    implemented=False,
)
