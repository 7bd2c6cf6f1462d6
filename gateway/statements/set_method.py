"""`set-method`: change the HTTP method of the backend request."""

from __future__ import annotations

from gateway.statements.spec import POLICY_ID, Kind, Section, StatementSpec, TextSpec

SPEC = StatementSpec(
    names=("set-method",),
    summary="Sets the HTTP method of the request.",
    sections=frozenset({Section.INBOUND, Section.ON_ERROR}),
    attributes=(POLICY_ID,),
    text=TextSpec(Kind.HTTP_METHOD, required=True),
    implemented=False,
)
