"""`xml-to-json`: convert an XML body to JSON."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.statements.support.declarations import CONVERSION_SECTIONS

SPEC = StatementSpec(
    names=("xml-to-json",),
    summary="Converts the body from XML to JSON.",
    sections=CONVERSION_SECTIONS,
    attributes=(
        POLICY_ID,
        AttributeSpec("kind", Kind.ENUM, required=True, choices=("javascript-friendly", "direct")),
        AttributeSpec("apply", Kind.ENUM, required=True, choices=("always", "content-type-xml")),
        AttributeSpec("consider-accept-header", Kind.BOOL, default="true"),
        AttributeSpec("always-array-child-elements", Kind.BOOL, default="false"),
    ),
)
