"""`cross-domain`: serve Flash/Silverlight cross-domain policy documents."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, PolicyScope, StatementSpec, TextSpec
from gateway.statements.support.declarations import INBOUND

SPEC = StatementSpec(
    names=("cross-domain",),
    summary="Responds to crossdomain.xml requests with the embedded policy markup.",
    sections=INBOUND,
    scopes=frozenset({PolicyScope.GLOBAL, PolicyScope.API}),
    attributes=(POLICY_ID,),
    text=TextSpec(raw_markup=True, expression=False),
)
