"""`llm-token-limit` / `azure-openai-token-limit`: tokens per minute and token quotas."""

from __future__ import annotations

from gateway.diagnostics import Report
from gateway.policy.tree import Node
from gateway.statements.common import COUNTER_KEY, INBOUND, RETRY_AFTER_HEADER, name_only
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec


def check(node: Node, report: Report) -> None:
    if "tokens-per-minute" not in node.attributes and "token-quota" not in node.attributes:
        report.error(
            node.location,
            "missing-attribute",
            f"{node.tag} needs 'tokens-per-minute', 'token-quota' (with 'token-quota-period'), "
            "or both",
        )
    if ("token-quota" in node.attributes) != ("token-quota-period" in node.attributes):
        report.error(
            node.location,
            "missing-attribute",
            f"{node.tag}: 'token-quota' and 'token-quota-period' go together; give both",
        )


SPEC = StatementSpec(
    names=("llm-token-limit", "azure-openai-token-limit"),
    summary="Limits prompt+completion tokens per minute (429) and per quota period (403).",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        COUNTER_KEY,
        AttributeSpec("tokens-per-minute", Kind.INT, minimum=0),
        AttributeSpec("token-quota", Kind.INT, minimum=0, expression=False),
        AttributeSpec(
            "token-quota-period",
            Kind.ENUM,
            choices=("Hourly", "Daily", "Weekly", "Monthly", "Yearly"),
            expression=False,
        ),
        AttributeSpec("estimate-prompt-tokens", Kind.BOOL, required=True),
        RETRY_AFTER_HEADER,
        name_only("retry-after-variable-name"),
        name_only("remaining-quota-tokens-header-name"),
        name_only("remaining-quota-tokens-variable-name"),
        name_only("remaining-tokens-header-name"),
        name_only("remaining-tokens-variable-name"),
        name_only("tokens-consumed-header-name"),
        name_only("tokens-consumed-variable-name"),
    ),
    check=check,
    implemented=False,
)
