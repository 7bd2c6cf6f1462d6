"""`set-body`: replace the request or response body."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions.model import MessageBody
from gateway.policy.compiling import CompileContext, CompileFailure
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import NOT_ON_ERROR
from gateway.statements.support.messages import body_bytes, message_of


def body_builder(node: Node, context: CompileContext) -> Callable[[RequestContext], bytes]:
    if node.attr_text("template") == "liquid":
        raise CompileFailure(
            node.location,
            "not-implemented",
            'set-body template="liquid" is not supported yet; use an expression',
        )
    body = context.value(node.text, "")
    return lambda request: body_bytes(body(request))


def compile_set_body(node: Node, context: CompileContext) -> Step:
    build = body_builder(node, context)
    section = context.section

    async def set_body(request: RequestContext) -> LocalReply | None:
        message_of(request, section).Body = MessageBody(build(request))
        return None

    return set_body


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
    compile=compile_set_body,
)
