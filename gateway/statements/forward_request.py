"""`forward-request`: call the backend."""

from __future__ import annotations

from gateway.diagnostics import Report
from gateway.policy.tree import Node
from gateway.statements.common import BACKEND
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, Multiplicity, StatementSpec


def check(node: Node, report: Report) -> None:
    if "timeout" in node.attributes and "timeout-ms" in node.attributes:
        report.error(
            node.attributes["timeout-ms"].location,
            "conflicting-attributes",
            "forward-request takes 'timeout' (seconds) or 'timeout-ms', not both; remove one",
        )


SPEC = StatementSpec(
    names=("forward-request",),
    summary="Sends the request to the backend and waits for the response headers.",
    sections=BACKEND,
    multiplicity=Multiplicity.ONCE_PER_DOCUMENT,
    attributes=(
        POLICY_ID,
        AttributeSpec("timeout", Kind.INT, default="300", minimum=0),
        AttributeSpec("timeout-ms", Kind.INT, minimum=0),
        AttributeSpec("continue-timeout", Kind.INT, minimum=0),
        AttributeSpec(
            "http-version", Kind.ENUM, default="1", choices=("1", "2", "2or1"), expression=False
        ),
        AttributeSpec("follow-redirects", Kind.BOOL, default="false"),
        AttributeSpec("buffer-request-body", Kind.BOOL, default="false", expression=False),
        AttributeSpec("buffer-response", Kind.BOOL, default="true", expression=False),
        AttributeSpec("fail-on-error-status-code", Kind.BOOL, default="false", expression=False),
    ),
    check=check,
    implemented=False,
)
