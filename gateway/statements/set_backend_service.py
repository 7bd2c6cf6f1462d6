"""`set-backend-service`: send the request to another backend or base URL."""

from __future__ import annotations

from gateway.diagnostics import Report
from gateway.policy.tree import Node
from gateway.statements.common import INBOUND_BACKEND
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec


def check(node: Node, report: Report) -> None:
    given = [a for a in ("base-url", "backend-id") if a in node.attributes]
    if len(given) != 1:
        report.error(
            node.location,
            "conflicting-attributes" if given else "missing-attribute",
            "set-backend-service needs exactly one of 'backend-id' or 'base-url'",
        )


SPEC = StatementSpec(
    names=("set-backend-service",),
    summary="Routes the request to a backend entity (or pool) or to a base URL.",
    sections=INBOUND_BACKEND,
    attributes=(
        POLICY_ID,
        AttributeSpec("base-url", Kind.URL),
        AttributeSpec("backend-id"),
        AttributeSpec("sf-resolve-condition"),
        AttributeSpec("sf-service-instance-name"),
        AttributeSpec("sf-partition-key"),
        AttributeSpec("sf-replica-type", Kind.ENUM, choices=("primary", "secondary")),
        AttributeSpec("sf-listener-name"),
        AttributeSpec("dapr-app-id"),
        AttributeSpec("dapr-method"),
        AttributeSpec("dapr-namespace"),
    ),
    check=check,
    implemented=False,
)
