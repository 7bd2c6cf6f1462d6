"""`llm-content-safety`: screen prompts with Azure AI Content Safety."""

from __future__ import annotations

from gateway.statements.common import INBOUND
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    StatementSpec,
    TextSpec,
)

CATEGORY = ChildSpec(
    "category",
    attributes=(
        AttributeSpec(
            "name", Kind.ENUM, required=True, choices=("Hate", "SelfHarm", "Sexual", "Violence")
        ),
        AttributeSpec("threshold", Kind.INT, required=True, minimum=0, maximum=7),
    ),
)

SPEC = StatementSpec(
    names=("llm-content-safety",),
    summary="Blocks (403) prompts that Content Safety rates at or above the thresholds.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("backend-id", required=True),
        AttributeSpec("shield-prompt", Kind.BOOL, default="false"),
        AttributeSpec("enforce-on-completions", Kind.BOOL, default="false"),
    ),
    children=(
        ChildSpec(
            "categories",
            max_count=1,
            attributes=(
                AttributeSpec(
                    "output-type",
                    Kind.ENUM,
                    default="FourSeverityLevels",
                    choices=("FourSeverityLevels", "EightSeverityLevels"),
                ),
            ),
            children=(CATEGORY,),
        ),
        ChildSpec("blocklists", max_count=1, children=(ChildSpec("id", text=TextSpec()),)),
    ),
    implemented=False,
)
