"""`set-variable`: store a value in context.Variables for later statements."""

from __future__ import annotations

from gateway.diagnostics import Report
from gateway.policy.tree import Node
from gateway.statements.spec import POLICY_ID, AttributeSpec, ChildSpec, StatementSpec, TextSpec


def check(node: Node, report: Report) -> None:
    has_attribute = "value" in node.attributes
    has_child = node.child("value") is not None
    if has_attribute and has_child:
        report.error(
            node.location,
            "conflicting-attributes",
            "set-variable takes its value from the 'value' attribute or a <value> child, "
            "not both; remove one",
        )
    elif not has_attribute and not has_child:
        report.error(node.location, "missing-attribute", "set-variable needs the attribute 'value'")


SPEC = StatementSpec(
    names=("set-variable",),
    summary="Stores a value (literal: a string) in context.Variables under a name.",
    attributes=(
        POLICY_ID,
        AttributeSpec("name", required=True, expression=False),
        AttributeSpec("value"),
    ),
    children=(ChildSpec("value", max_count=1, text=TextSpec()),),
    check=check,
    implemented=False,
)
