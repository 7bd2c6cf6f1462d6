"""`authentication-certificate`: present a client certificate to the backend."""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.statements.support.declarations import INBOUND


def check(node: Node, report: Report) -> None:
    sources = [a for a in ("thumbprint", "certificate-id", "body") if a in node.attributes]
    if len(sources) != 1:
        report.error(
            node.location,
            "conflicting-attributes" if sources else "missing-attribute",
            "authentication-certificate needs exactly one of 'thumbprint', 'certificate-id' "
            "or 'body'",
        )


SPEC = StatementSpec(
    names=("authentication-certificate",),
    summary="Authenticates to the backend with a client certificate.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("thumbprint"),
        AttributeSpec("certificate-id"),
        AttributeSpec("body"),
        AttributeSpec("password"),
    ),
    check=check,
)
