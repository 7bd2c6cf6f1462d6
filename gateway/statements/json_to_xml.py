"""`json-to-xml`: convert a JSON body to XML."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.statements.support.declarations import CONVERSION_SECTIONS

SPEC = StatementSpec(
    names=("json-to-xml",),
    summary="Converts the body from JSON to XML.",
    sections=CONVERSION_SECTIONS,
    attributes=(
        POLICY_ID,
        AttributeSpec("apply", Kind.ENUM, required=True, choices=("always", "content-type-json")),
        AttributeSpec("consider-accept-header", Kind.BOOL, default="true"),
        AttributeSpec("parse-date", Kind.BOOL, default="true"),
        AttributeSpec("namespace-separator"),
        AttributeSpec("namespace-prefix"),
        AttributeSpec("attribute-block-name"),
    ),
)
