"""`rate-limit`: calls per period for each subscription."""

from __future__ import annotations

from gateway.statements.common import INBOUND, LIMIT_OUTPUTS
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    Scope,
    StatementSpec,
)

CALLS = AttributeSpec("calls", Kind.INT, required=True, minimum=1, expression=False)
RENEWAL_PERIOD = AttributeSpec(
    "renewal-period", Kind.INT, required=True, minimum=1, maximum=300, expression=False
)


def _limit(name: str, *, children: tuple[ChildSpec, ...] = ()) -> ChildSpec:
    return ChildSpec(
        name,
        attributes=(AttributeSpec("name"), AttributeSpec("id"), CALLS, RENEWAL_PERIOD),
        children=children,
    )


SPEC = StatementSpec(
    names=("rate-limit",),
    summary="Limits calls per renewal period (max 300 s) for each subscription; 429 beyond.",
    sections=INBOUND,
    scopes=frozenset({Scope.PRODUCT, Scope.API, Scope.OPERATION}),
    multiplicity=Multiplicity.ONCE_PER_DOCUMENT,
    attributes=(POLICY_ID, CALLS, RENEWAL_PERIOD, *LIMIT_OUTPUTS),
    children=(_limit("api", children=(_limit("operation"),)),),
    implemented=False,
)
