"""`log-to-eventhub`: send a message to an event hub logger."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec, TextSpec

SPEC = StatementSpec(
    names=("log-to-eventhub",),
    summary="Sends its text (up to 200 KB) to the named logger.",
    attributes=(
        POLICY_ID,
        AttributeSpec("logger-id", required=True, expression=False),
        AttributeSpec("partition-id"),
        AttributeSpec("partition-key"),
    ),
    text=TextSpec(required=True),
)
