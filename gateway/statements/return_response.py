"""`return-response`: stop the pipeline and answer the client."""

from __future__ import annotations

from gateway.statements import set_body, set_header, set_status
from gateway.statements.common import name_only
from gateway.statements.spec import POLICY_ID, StatementSpec, as_child

SPEC = StatementSpec(
    names=("return-response",),
    summary="Stops processing and returns the response built by its children.",
    attributes=(POLICY_ID, name_only("response-variable-name")),
    children=(
        as_child(set_status.SPEC, max_count=1),
        as_child(set_header.SPEC),
        as_child(set_body.SPEC, max_count=1),
    ),
    implemented=False,
)
