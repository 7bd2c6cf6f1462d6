"""`cors`: answer preflight requests and add CORS headers."""

from __future__ import annotations

from gateway.statements.common import INBOUND
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    StatementSpec,
    TextSpec,
)


def _list(name: str, item: str, *attributes: AttributeSpec, required: bool = False) -> ChildSpec:
    return ChildSpec(
        name,
        min_count=1 if required else 0,
        max_count=1,
        attributes=attributes,
        children=(ChildSpec(item, text=TextSpec(required=True)),),
    )


SPEC = StatementSpec(
    names=("cors",),
    summary="Adds cross-origin resource sharing support; answers preflight OPTIONS requests.",
    sections=INBOUND,
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    attributes=(
        POLICY_ID,
        AttributeSpec("allow-credentials", Kind.BOOL, default="false", expression=False),
        AttributeSpec("terminate-unmatched-request", Kind.BOOL, default="false", expression=False),
    ),
    children=(
        _list("allowed-origins", "origin", required=True),
        _list(
            "allowed-methods",
            "method",
            AttributeSpec("preflight-result-max-age", Kind.INT, minimum=0, expression=False),
        ),
        _list("allowed-headers", "header"),
        _list("expose-headers", "header"),
    ),
    implemented=False,
)
