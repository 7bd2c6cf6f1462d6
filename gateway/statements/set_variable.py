"""`set-variable`: store a value in context.Variables for later statements."""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step


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


def compile_set_variable(node: Node, context: CompileContext) -> Step:
    name = context.literal(node.attr("name")) or ""
    value_element = node.child("value")
    value = context.value(node.attr("value") or (value_element.text if value_element else None))

    async def set_variable(request: RequestContext) -> LocalReply | None:
        # A literal is stored as a string, an expression's result as what it is (APIM).
        request.variables[name] = value(request)
        return None

    return set_variable


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
    compile=compile_set_variable,
)
