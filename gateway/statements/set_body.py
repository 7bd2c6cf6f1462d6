"""`set-body`: replace the request or response body."""

from __future__ import annotations

from gateway.statements.common import NOT_ON_ERROR
from gateway.statements.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec, TextSpec

SPEC = StatementSpec(
    names=("set-body",),
    summary="Replaces the body with a literal, an expression or a Liquid template.",
    sections=NOT_ON_ERROR,
    attributes=(
        POLICY_ID,
        AttributeSpec("template", Kind.ENUM, choices=("liquid", "none"), expression=False),
        AttributeSpec("xsi-nil", Kind.ENUM, default="blank", choices=("blank", "null")),
        AttributeSpec("parse-date", Kind.BOOL, default="true", expression=False),
    ),
    text=TextSpec(raw_markup=True, doc="The body: literal text or markup, or an expression."),
    implemented=False,
)
