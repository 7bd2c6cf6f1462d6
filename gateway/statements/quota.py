"""`quota`: call and bandwidth quotas for each subscription of a product."""

from __future__ import annotations

from gateway.diagnostics import Report
from gateway.policy.tree import Node
from gateway.statements.common import INBOUND
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    Scope,
    StatementSpec,
)

CALLS = AttributeSpec("calls", Kind.INT, minimum=1, expression=False)
BANDWIDTH = AttributeSpec("bandwidth", Kind.INT, minimum=1, expression=False, doc="Kilobytes.")
RENEWAL_PERIOD = AttributeSpec(
    "renewal-period", Kind.INT, required=True, minimum=0, expression=False, doc="0: never resets."
)


def check(node: Node, report: Report) -> None:
    if "calls" not in node.attributes and "bandwidth" not in node.attributes:
        report.error(
            node.location,
            "missing-attribute",
            f"{node.tag} needs 'calls', 'bandwidth' (kilobytes), or both",
        )


def _limit(name: str, *, children: tuple[ChildSpec, ...] = ()) -> ChildSpec:
    return ChildSpec(
        name,
        attributes=(
            AttributeSpec("name"),
            AttributeSpec("id"),
            CALLS,
            BANDWIDTH,
            AttributeSpec("renewal-period", Kind.INT, minimum=0, expression=False),
        ),
        children=children,
    )


SPEC = StatementSpec(
    names=("quota",),
    summary="Caps calls and/or kilobytes per renewal period for each subscription; 403 beyond.",
    sections=INBOUND,
    scopes=frozenset({Scope.PRODUCT}),
    multiplicity=Multiplicity.ONCE_PER_DOCUMENT,
    attributes=(POLICY_ID, CALLS, BANDWIDTH, RENEWAL_PERIOD),
    children=(_limit("api", children=(_limit("operation"),)),),
    check=check,
    implemented=False,
)
