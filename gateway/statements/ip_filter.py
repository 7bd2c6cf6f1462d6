"""`ip-filter`: allow or forbid callers by IP address or range."""

from __future__ import annotations

from gateway.diagnostics import Report
from gateway.policy.tree import Node
from gateway.statements.common import INBOUND
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    StatementSpec,
    TextSpec,
)


def check(node: Node, report: Report) -> None:
    if not node.children_named("address") and not node.children_named("address-range"):
        report.error(
            node.location,
            "missing-element",
            "ip-filter needs at least one <address> or <address-range from=.. to=..>",
        )


SPEC = StatementSpec(
    names=("ip-filter",),
    summary="Allows or forbids callers by IP address; rejection is 403.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("action", Kind.ENUM, required=True, choices=("allow", "forbid")),
    ),
    children=(
        ChildSpec("address", text=TextSpec(required=True)),
        ChildSpec(
            "address-range",
            attributes=(AttributeSpec("from", required=True), AttributeSpec("to", required=True)),
        ),
    ),
    check=check,
    implemented=False,
)
